/**
 * Delivery status notifications (RFC 3464) for permanent failures and expired retries.
 *
 * <p>TODO(later issue): generate the DSN to the envelope sender (never to the null sender {@code <>}), with
 * the remote server's reply, and publish it as a new message. Until then a permanent failure only emits a
 * {@code bounced} event on relay.events.v1.
 */
package dev.relay.delivery.dsn;
