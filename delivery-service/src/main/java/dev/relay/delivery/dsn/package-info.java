/**
 * Delivery status notifications (RFC 3464) for permanent failures: {@link dev.relay.delivery.dsn.BounceNotifier}
 * composes them with the shared {@link dev.relay.common.dsn.DsnComposer} and publishes them as new outbound
 * records to the envelope sender (never to the null sender {@code <>}), for permanent failures, expiries after the
 * retry schedule and, when configured, delay notices. Only senders that authenticated or came from a trusted
 * network get one (ADR 0009: no backscatter).
 */
package dev.relay.delivery.dsn;
