/**
 * Delivery status notifications (RFC 3464) for permanent failures: {@link dev.relay.delivery.dsn.BounceNotifier}
 * composes them with the shared {@link dev.relay.common.dsn.DsnComposer} and publishes them as new outbound
 * records to the envelope sender (never to the null sender {@code <>}).
 *
 * <p>TODO(later issue): delay notices and bounces of expired retries (the retry loop is not built yet).
 */
package dev.relay.delivery.dsn;
