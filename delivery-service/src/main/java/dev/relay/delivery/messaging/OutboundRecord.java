package dev.relay.delivery.messaging;

import dev.relay.common.envelope.Envelope;
import org.apache.kafka.common.header.Headers;

/**
 * A decoded record of relay.outbound.v1 or of a retry tier (relay.retry.v1.5m ...).
 *
 * @param key      message id + ":" + hop key
 * @param envelope the envelope of this hop
 * @param data     the message bytes, to be sent unchanged
 * @param headers  all record headers, carried along to the retry topic
 */
public record OutboundRecord(String key, Envelope envelope, byte[] data, Headers headers) {
}
