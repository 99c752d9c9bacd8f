package dev.relay.ingress;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ingress's rooms, read from its own sources: the auth layer does not depend on the SMTP session or the socket
 * edge, SASL stays in {@code auth.sasl}, the edge does not parse credentials, and no production file grows past
 * about 300 lines unless a comment at its top says why.
 */
class IngressLayeringTest {

    private static final Path MAIN = Path.of("src/main/java/dev/relay/ingress");
    private static final int MAX_LINES = 300;

    @Test
    void authDoesNotDependOnTheSmtpSessionOrTheEdge() throws IOException {
        assertThat(importsUnder("auth", "dev.relay.ingress.smtp.session", "dev.relay.ingress.smtp.server")).isEmpty();
    }

    @Test
    void theSocketEdgeLeavesSaslToTheAuthLayer() throws IOException {
        assertThat(importsUnder("smtp/server", "dev.relay.ingress.auth.SaslBearerParser",
                "dev.relay.ingress.auth.sasl.SaslBearerParser", "dev.relay.ingress.auth.sasl.AuthExchange")).isEmpty();
        assertThat(javaFiles("smtp")).map(f -> f.getFileName().toString())
                .noneMatch(name -> name.startsWith("Sasl") || name.equals("AuthExchange.java"));
    }

    @Test
    void esmtpParametersAreParsedWithTheOtherProtocolElements() {
        assertThat(MAIN.resolve("smtp/protocol/EnvelopeParameters.java")).exists();
        assertThat(MAIN.resolve("smtp/session/EnvelopeParameters.java")).doesNotExist();
    }

    @Test
    void theEdgeKeepsItsInputModeInOneEnumNotInFlags() throws IOException {
        List<String> flags = Files.readAllLines(MAIN.resolve("smtp/server/SmtpConnection.java")).stream()
                .filter(line -> line.matches("\\s+private boolean \\w+;")).toList();
        assertThat(flags).as("only 'draining' is not an input mode").hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void noProductionFileIsLongerThanAboutThreeHundredLinesWithoutSayingWhy() throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (Path file : javaFiles("")) {
            List<String> lines = Files.readAllLines(file);
            String top = String.join("\n", lines.subList(0, Math.min(40, lines.size())));
            if (lines.size() > MAX_LINES && !top.contains("longer than")) {
                tooLong.add(MAIN.relativize(file) + " (" + lines.size() + ")");
            }
        }
        assertThat(tooLong).isEmpty();
    }

    private static List<String> importsUnder(String folder, String... forbidden) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path file : javaFiles(folder)) {
            for (String line : Files.readAllLines(file)) {
                for (String prefix : forbidden) {
                    if (line.startsWith("import " + prefix)) {
                        found.add(MAIN.relativize(file) + ": " + line);
                    }
                }
            }
        }
        return found;
    }

    private static List<Path> javaFiles(String folder) throws IOException {
        try (Stream<Path> files = Files.walk(MAIN.resolve(folder))) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }
}
