/**
 * Webhooks (issue 17, docs/adr/0021): subscriptions kept on a compacted topic, events POSTed to them signed with
 * HMAC-SHA256, failed POSTs retried through a Kafka topic and finally kept as dead letters.
 */
package dev.relay.policy.webhook;
