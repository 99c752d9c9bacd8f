package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EnvelopeParametersTest {

    @ParameterizedTest
    @ValueSource(strings = {"SIZE=abc", "SIZE=99999999999", "BODY=BINARYMIME", "SMTPUTF8=yes", "RET=NONE", "FOO=1"})
    void shouldRefuseBadMailParameters(String param) {
        String[] kv = param.split("=", 2);
        assertThat(EnvelopeParameters.mail(Map.of(kv[0], kv[1]), 1000).refusal()).isNotNull();
    }
}
