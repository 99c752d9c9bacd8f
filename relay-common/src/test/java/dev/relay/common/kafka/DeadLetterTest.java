package dev.relay.common.kafka;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterTest {

    @Test
    void shouldKeepTheRecordsHeadersAndAddReasonAndSource() {
        Header[] original = {new RecordHeader("relay-envelope", new byte[] {1, 2})};
        RecordHeaders headers = DeadLetter.headers(original, "bad envelope: é",
                DeadLetter.source("relay.outbound.v1", 3, 42));
        assertThat(headers.lastHeader("relay-envelope").value()).containsExactly(1, 2);
        assertThat(new String(headers.lastHeader(DeadLetter.REASON_HEADER).value(), StandardCharsets.UTF_8))
                .isEqualTo("bad envelope: é");
        assertThat(new String(headers.lastHeader(DeadLetter.SOURCE_HEADER).value(), StandardCharsets.UTF_8))
                .isEqualTo("relay.outbound.v1-3@42");
        assertThat(original).hasSize(1);
    }
}
