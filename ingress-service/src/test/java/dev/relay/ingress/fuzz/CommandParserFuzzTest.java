package dev.relay.ingress.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.CommandParser;
import dev.relay.ingress.smtp.protocol.Replies;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link CommandParser} with arbitrary command lines. Without {@code JAZZER_FUZZ} this runs as a regression
 * test over the seeds and kept findings in {@code CommandParserFuzzTestInputs/parseAnyLine/}; see bench/README.md
 * ("Fuzzing") for a fuzzing run.
 *
 * <p>Invariants: the parser never throws; the verb it reports is one of a fixed set (it is a metric tag, so it must
 * stay bounded whatever a client sends); a line with CR, LF or NUL is never a usable command; what a usable command
 * carries holds no such byte; parsing is deterministic; MAIL and RCPT survive a round trip through their canonical
 * text.
 */
class CommandParserFuzzTest {

    private static final Set<String> VERBS = Set.of("EHLO", "HELO", "MAIL", "RCPT", "AUTH", "VRFY", "BDAT", "DATA",
            "RSET", "NOOP", "QUIT", "STARTTLS", "HELP", "EXPN", "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "OTHER");

    @FuzzTest(maxDuration = "30s")
    void parseAnyLine(byte[] line) {
        Command command = CommandParser.parse(line);

        assertThat(command).isNotNull();
        assertThat(VERBS).contains(command.verb());
        assertThat(CommandParser.parse(line.clone())).isEqualTo(command);

        boolean controls = contains(line, (byte) '\r') || contains(line, (byte) '\n') || contains(line, (byte) 0);
        if (controls || !validUtf8(line)) {
            assertThat(command).isInstanceOf(Command.Invalid.class);
        }
        // the first offending byte decides the reply: a CR or LF before any NUL is a bare line ending (500 5.5.2)
        int lineEnding = Math.min(indexOf(line, (byte) '\r'), indexOf(line, (byte) '\n'));
        if (validUtf8(line) && lineEnding < indexOf(line, (byte) 0)) {
            assertThat(((Command.Invalid) command).reply()).isEqualTo(Replies.BARE_LINE_ENDING);
        }

        if (command instanceof Command.Helo helo) {
            assertThat(helo.domain()).isNotEmpty().doesNotContain(" ");
            // it reaches logs and the Received: header: no control or other invisible character
            assertThat(helo.domain().codePoints().allMatch(dev.relay.ingress.smtp.protocol.Printable::visible))
                    .isTrue();
        } else if (command instanceof Command.Mail mail) {
            assertRoundTrip("MAIL FROM:", mail.path(), mail.params(), command);
        } else if (command instanceof Command.Rcpt rcpt) {
            assertRoundTrip("RCPT TO:", rcpt.path(), rcpt.params(), command);
        } else if (command instanceof Command.Bdat bdat) {
            assertThat(bdat.size()).isBetween(0L, 999_999_999_999_999_999L);
        } else if (command instanceof Command.Auth auth) {
            assertThat(auth.mechanism()).isNotEmpty().doesNotContain(" ");
        }
    }

    /** The canonical text of a parsed MAIL/RCPT parses to the same command: no information lost or invented. */
    private static void assertRoundTrip(String keyword, String path, Map<String, String> params, Command parsed) {
        assertThat(path).doesNotContain("\r", "\n", "\0");
        StringBuilder canonical = new StringBuilder(keyword).append('<').append(path).append('>');
        params.forEach((key, value) -> {
            assertThat(key).isNotEmpty().doesNotContain(" ", "=");
            canonical.append(' ').append(key);
            if (value != null) {
                canonical.append('=').append(value);
            }
        });
        assertThat(CommandParser.parse(canonical.toString().getBytes(StandardCharsets.UTF_8))).isEqualTo(parsed);
    }

    /** Index of the first {@code b}, or {@code Integer.MAX_VALUE} when absent. */
    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private static boolean contains(byte[] bytes, byte b) {
        for (byte x : bytes) {
            if (x == b) {
                return true;
            }
        }
        return false;
    }

    private static boolean validUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
