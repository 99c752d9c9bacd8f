/**
 * Outbound TLS policy (ADR 0012): the per-destination policy table ({@link dev.relay.delivery.tls.TlsPolicyMap}),
 * the one decision per MX host ({@link dev.relay.delivery.tls.DeliveryTlsPolicy}: table, DANE, MTA-STS, default),
 * TLSA records and the per-connection certificate checks the transport runs after the handshake
 * ({@link dev.relay.delivery.tls.DaneTrustManager}, {@link dev.relay.delivery.tls.NameCheckingTrustManager}).
 */
package dev.relay.delivery.tls;
