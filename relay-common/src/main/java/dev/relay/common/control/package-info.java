/**
 * Queue operations: what an operator asks of the delivery workers (retry now, bounce, delete) and which
 * destinations are held. Written by the policy service's queue API, followed by every delivery worker, so an
 * operation reaches the worker holding the message whatever the number of workers (docs/architecture.md, "Queue
 * operations").
 */
package dev.relay.common.control;
