package dev.relay.delivery.outcome;

/**
 * What MTA-STS said about the attempt that gave a result (RFC 8461), as bounded values for the delivery event.
 *
 * @param mode   {@code enforce}, {@code testing} or {@code none}
 * @param result {@code pass} (a matching MX host with a certificate that verifies answered, or would have in
 *               testing), {@code fail} (no matching MX host, or the certificate did not verify) or
 *               {@code fetch-failed} (a record was published but no policy could be fetched and none was cached)
 */
public record MtaStsCheck(String mode, String result) {
}
