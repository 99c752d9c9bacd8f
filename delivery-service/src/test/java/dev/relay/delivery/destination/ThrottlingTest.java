package dev.relay.delivery.destination;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ThrottlingTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "421 | 421 4.3.2 service shutting down | true",
            "421 | 421 too busy | true",
            "451 | 451 4.7.1 rate limited | true",
            "450 | 450 4.7.0 too many connections | true",
            "452 | 452-4.7.28 multi-line | true",
            "451 | 451 4.3.0 local error | false",
            "450 | 450 4.2.1 mailbox busy | false",
            "550 | 550 5.7.1 relaying denied | false",
            "250 | 250 4.7.1 odd but positive | false",
            "451 | 451 4.70.1 not a status | false",
    })
    void shouldRecogniseThrottlingReplies(int code, String text, boolean throttling) {
        assertThat(Throttling.isThrottling(code, text)).isEqualTo(throttling);
    }
}
