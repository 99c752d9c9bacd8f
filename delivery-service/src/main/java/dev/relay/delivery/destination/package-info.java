/**
 * Per-destination limits of outbound SMTP: connection slots with a bounded wait queue per destination, messages
 * per minute, and back-off after throttling replies. A destination is a remote host and port
 * ({@link dev.relay.delivery.destination.Destination}); the limits hold per delivery worker.
 */
package dev.relay.delivery.destination;
