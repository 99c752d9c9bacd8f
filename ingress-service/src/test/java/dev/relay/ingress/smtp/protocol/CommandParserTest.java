package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CommandParserTest {

    private static Command parse(String line) {
        return CommandParser.parse(line.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldParseMailWithParameters() {
        assertThat(parse("MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME"))
                .isEqualTo(new Command.Mail("a@b.example", Map.of("SIZE", "100", "BODY", "8BITMIME")));
        assertThat(parse("mail from: <>")).isEqualTo(new Command.Mail("", Map.of()));
    }

    @Test
    void shouldKeepQuotedBracketsInsideThePath() {
        assertThat(parse("RCPT TO:<\"a>b\"@example.com>")).isEqualTo(new Command.Rcpt("\"a>b\"@example.com", Map.of()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "MAIL FROM:a@b.example|501",
            "MAIL TO:<a@b.example>|501",
            "RCPT TO:<a@b.example|501",
            "RCPT TO:<a@b.example>junk|501",
            "EHLO|501",
            "HELO a b|501",
            "DATA now|501",
            "AUTH|501",
            "EXPN list|502",
            "BDAT ten|501",
            "BDAT 10 FIRST|501",
            "FOO bar|500",
            "MAIL FROM:<a@b> SIZE=1 SIZE=2|501"
    })
    void shouldSeparateBadSyntaxFromUnknownAndUnimplemented(String line, int code) {
        Command command = parse(line);
        int actual = command instanceof Command.Invalid invalid ? invalid.reply().code()
                : command instanceof Command.NotImplemented ? 502
                : command instanceof Command.Unknown ? 500 : 250;
        assertThat(actual).isEqualTo(code);
    }

    @Test
    void shouldRefuseBareLineEndingsAndNul() {
        assertThat(parse("NOOP\n")).isEqualTo(new Command.Invalid("OTHER", Replies.BARE_LINE_ENDING));
        assertThat(parse("NOOP\rRSET")).isEqualTo(new Command.Invalid("OTHER", Replies.BARE_LINE_ENDING));
        assertThat(parse("NOOP\u0000")).isInstanceOf(Command.Invalid.class);
        assertThat(CommandParser.parse(new byte[]{'N', (byte) 0xC3})).isInstanceOf(Command.Invalid.class);
    }

    @Test
    void shouldParseAuthWithInitialResponse() {
        assertThat(parse("auth plain AGRlbW8AcHc=")).isEqualTo(new Command.Auth("PLAIN", "AGRlbW8AcHc="));
        assertThat(parse("AUTH LOGIN")).isEqualTo(new Command.Auth("LOGIN", null));
    }
}
