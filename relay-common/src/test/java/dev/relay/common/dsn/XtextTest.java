package dev.relay.common.dsn;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class XtextTest {

    @ParameterizedTest
    @ValueSource(strings = {"abc", "a+b", "=", "x=1+2", "<id@example.test>", "a b\tc", "~!@#$%^&*()"})
    void shouldDecodeWhatItEncodesForAscii(String text) {
        assertThat(Xtext.decode(Xtext.encode(text))).isEqualTo(text);
    }

    @ParameterizedTest
    @CsvSource({"a+b,a+2Bb", "=,+3D", "a b,a+20b", "é,+C3+A9"})
    void shouldEncodeOutsidePrintableAsciiAndPlusAndEqualsAsHex(String text, String xtext) {
        assertThat(Xtext.encode(text)).isEqualTo(xtext);
    }

    @ParameterizedTest
    @CsvSource({"abc,abc", "a+2Bb,a+b", "+3D,=", "QQ+2B1,QQ+1"})
    void shouldDecodeXtext(String xtext, String decoded) {
        assertThat(Xtext.decode(xtext)).isEqualTo(decoded);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a=b", "a+2", "a+zz", "a+2b", "a b", "é"})
    void shouldRefuseInvalidXtext(String xtext) {
        assertThat(Xtext.decode(xtext)).isNull();
    }
}
