package dev.relay.delivery.transport;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DotStufferTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "plain line                  | a\\r\\n                 | a\\r\\n.\\r\\n",
            "leading dot                 | .a\\r\\n                | ..a\\r\\n.\\r\\n",
            "lone dot line               | a\\r\\n.\\r\\nb\\r\\n      | a\\r\\n..\\r\\nb\\r\\n.\\r\\n",
            "two dots                    | ..\\r\\n                | ...\\r\\n.\\r\\n",
            "dot inside a line           | a.b\\r\\n.c\\r\\n         | a.b\\r\\n..c\\r\\n.\\r\\n",
            "no final CRLF               | a\\r\\n.b               | a\\r\\n..b\\r\\n.\\r\\n",
            "empty message               | ''                     | \\r\\n.\\r\\n",
            "CRLF dot CRLF in the body   | x\\r\\n.\\r\\n            | x\\r\\n..\\r\\n.\\r\\n",
    })
    void shouldStuffLeadingDotsAndTerminate(String name, String input, String expected) {
        assertThat(new String(DotStuffer.stuff(bytes(input)), StandardCharsets.ISO_8859_1))
                .isEqualTo(text(expected));
    }

    @ParameterizedTest(name = "byte {0}")
    @CsvSource({"0", "127", "128", "200", "255"})
    void shouldPassEveryByteValueUnchanged(int value) {
        byte[] input = {'a', (byte) value, 'b', '\r', '\n'};

        byte[] out = DotStuffer.stuff(input);

        assertThat(out).startsWith(input).endsWith('.', '\r', '\n').hasSize(input.length + 3);
    }

    private static byte[] bytes(String escaped) {
        return text(escaped).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(String escaped) {
        return escaped.strip().replace("\\r", "\r").replace("\\n", "\n");
    }
}
