package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PrintableTest {

    @Test
    void shouldNeverLetControlCharactersThroughToALogLine() {
        assertThat(Printable.forLog("a\r\nINFO forged\u001b[2J\u0085\u2028\u202e")).isEqualTo("a??INFO?forged?[2J???");
        assertThat(Printable.forLog("mail.example")).isEqualTo("mail.example");
        assertThat(Printable.forLog("b\u00fccher.example")).isEqualTo("b\u00fccher.example");
        assertThat(Printable.forLog("x".repeat(300))).hasSize(Printable.LOG_LIMIT + 3).endsWith("...");
        assertThat(Printable.forLog(null)).isNull();
    }
}
