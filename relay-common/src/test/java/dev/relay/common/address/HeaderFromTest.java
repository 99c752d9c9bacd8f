package dev.relay.common.address;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderFromTest {

    private static HeaderFrom.Result of(String headers) {
        return HeaderFrom.of((headers + "\r\nbody From: nobody@body.example\r\n").getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> addresses(String headers) {
        HeaderFrom.Result result = of(headers);
        assertThat(result.valid()).as("valid: %s", headers).isTrue();
        return result.addresses().stream().map(MailAddress::toString).toList();
    }

    @Test
    void shouldReadTheAddressesOfTheFromField() {
        assertThat(addresses("Subject: x\r\nFrom: demo@example.test\r\n")).containsExactly("demo@example.test");
        assertThat(addresses("from:   \"Demo, Sender\" <demo@example.test>\r\n")).containsExactly("demo@example.test");
        assertThat(addresses("From: Demo (the <boss@example.test>) <demo@example.test>\r\n"))
                .containsExactly("demo@example.test");
        assertThat(addresses("From: a@example.test,\r\n b@example.test (comment)\r\n"))
                .containsExactly("a@example.test", "b@example.test");
        assertThat(addresses("From: team: a@example.test, B <b@example.test>;\r\n"))
                .containsExactly("a@example.test", "b@example.test");
    }

    @Test
    void shouldHaveNoAddressesWithoutAFromFieldAndNeverReadTheBody() {
        HeaderFrom.Result result = of("Subject: no from\r\n");
        assertThat(result.present()).isFalse();
        assertThat(result.valid()).isTrue();
    }

    @Test
    void shouldRefuseWhatCouldHideAnAddress() {
        assertThat(of("From: a@example.test\r\nFrom: ceo@example.test\r\n").valid()).isFalse();
        assertThat(of("From: <a@example.test\r\n").valid()).isFalse();
        assertThat(of("From: \"open <a@example.test>\r\n").valid()).isFalse();
        assertThat(of("From: (open <a@example.test>\r\n").valid()).isFalse();
        assertThat(of("From: <a@example.test> <ceo@example.test>\r\n").valid()).isFalse();
        assertThat(of("From: user%ceo@example.test\r\n").valid()).isFalse();
        assertThat(of("From: undisclosed:;\r\n").valid()).isFalse();
    }
}
