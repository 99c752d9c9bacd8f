/**
 * Credentials for AUTH towards smarthosts and routes (RFC 4954): read from files that a mounted Kubernetes
 * Secret provides, one directory per credential name, re-read when they change, never logged and never put into
 * Kafka (only the credential's name travels with a route). See docs/adr/0014-outbound-auth-and-chunking.md.
 */
package dev.relay.delivery.auth;
