package dev.relay.delivery.messaging;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rolling upgrades (issue 13): a policy service newer than this delivery service may emit a route kind this
 * version does not know. Such a record must become a dead letter (kept, with its reason), never an exception
 * that would stop the consumer and replay the record after every restart.
 */
class OutboundRecordDecoderTest {

    private static final byte[] BODY = "Subject: x\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void shouldDecodeALocalRoute() {
        OutboundRecordDecoder.Decoded decoded = decode(EnvelopeCodec.encode(envelope(Route.local("example.test"))));

        assertThat(decoded).isInstanceOfSatisfying(OutboundRecordDecoder.Decoded.Valid.class,
                v -> assertThat(v.record().envelope().route()).isEqualTo(Route.local("example.test")));
    }

    @Test
    void shouldDeadLetterARouteKindThisVersionDoesNotKnow() {
        String json = new String(EnvelopeCodec.encode(envelope(Route.local("example.test"))), StandardCharsets.UTF_8);
        assertThat(json).contains("\"kind\":\"LOCAL\"");
        byte[] future = json.replace("\"kind\":\"LOCAL\"", "\"kind\":\"MAILBOX_CLUSTER\"")
                .getBytes(StandardCharsets.UTF_8);

        OutboundRecordDecoder.Decoded decoded = decode(future);

        assertThat(decoded).isInstanceOfSatisfying(OutboundRecordDecoder.Decoded.Undecodable.class, u -> {
            assertThat(u.reason()).startsWith("undecodable envelope").contains("MAILBOX_CLUSTER");
            assertThat(u.value()).isEqualTo(BODY);
            assertThat(u.source()).isEqualTo("relay.outbound.v1-0@7");
        });
    }

    @Test
    void shouldNameTheSourceOfARetryTierRecordAsTheDeadLetterHeaderDoes() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("relay.retry.v1.5m", 2, 41L,
                "m1".getBytes(StandardCharsets.UTF_8), BODY);

        OutboundRecordDecoder.Decoded decoded = OutboundRecordDecoder.decode(record);

        assertThat(decoded).isInstanceOfSatisfying(OutboundRecordDecoder.Decoded.Undecodable.class, u -> {
            assertThat(u.reason()).isEqualTo("missing " + Topics.ENVELOPE_HEADER + " header");
            assertThat(u.source()).isEqualTo("relay.retry.v1.5m-2@41")
                    .isEqualTo(KafkaDlqPublisher.source("relay.retry.v1.5m", 2, 41L));
        });
    }

    private static OutboundRecordDecoder.Decoded decode(byte[] envelopeJson) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Topics.ENVELOPE_HEADER, envelopeJson);
        return OutboundRecordDecoder.decode("m1:local:example.test", BODY, headers, "relay.outbound.v1-0@7");
    }

    private static Envelope envelope(Route route) {
        return new Envelope(Envelope.VERSION, "m1", 1, "192.0.2.10", "mx.sender.example", "relay", false, null,
                "someone@sender.example", List.of("alice@example.test"), false, "7BIT", BODY.length, route, 0);
    }
}
