/**
 * DKIM signing (RFC 6376; Ed25519 per RFC 8463): the keys of this instance ({@link dev.relay.policy.dkim.DkimKeys},
 * a directory of PEM files re-read without restart), the canonicalisation and signature
 * ({@link dev.relay.policy.dkim.DkimCanonicalizer}, {@link dev.relay.policy.dkim.DkimSigner}, pure, on bytes) and
 * the step the router calls once per message after header hygiene ({@link dev.relay.policy.dkim.DkimStep}).
 * Decision in docs/adr/0011.
 */
package dev.relay.policy.dkim;
