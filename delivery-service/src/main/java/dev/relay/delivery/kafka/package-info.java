/**
 * Kafka plumbing that every layer of the delivery may use without importing another: {@link
 * dev.relay.delivery.kafka.KafkaAckedSend} sends one record and completes when the broker acknowledged it. It
 * sits below {@code retry}, {@code dsn} and {@code messaging}, which all publish through it, so that the lower
 * layers never import the consumer side ({@code messaging}).
 */
package dev.relay.delivery.kafka;
