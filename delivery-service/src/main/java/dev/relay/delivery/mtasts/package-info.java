/**
 * MTA-STS for MX deliveries (RFC 8461): discovery of the {@code _mta-sts} TXT record through the delivery's own
 * DNS client ({@link dev.relay.delivery.mtasts.StsRecord}), the HTTPS policy fetch
 * ({@link dev.relay.delivery.mtasts.PolicyFetcher}), a bounded per-instance cache keyed by the record's id
 * ({@link dev.relay.delivery.mtasts.PolicyCache}), and the one step that applies a policy to the MX targets of a
 * domain ({@link dev.relay.delivery.mtasts.MtaSts#apply}): {@code enforce} keeps only matching MX hosts and demands
 * a certificate that verifies ({@code TlsPolicy.VERIFY}), else defers {@code 4.7.5}; {@code testing} delivers as
 * before and records whether enforce would have passed. See docs/adr/0013-mta-sts-policy-cache.md.
 */
package dev.relay.delivery.mtasts;
