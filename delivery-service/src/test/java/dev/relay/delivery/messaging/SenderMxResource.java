package dev.relay.delivery.messaging;

import dev.relay.testkit.CaptureMx;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The mail exchanger of the senders' domain {@value #DOMAIN}: a capture MX on port 0 that the delivery service
 * reaches through a static route, so that a DSN published on the outbound topic ends up in the sender's
 * mailbox here, the way it would on the internet. Tests read the mailbox from its directory (config key
 * {@value #DIR_KEY}): the resource may live in another class loader than the test.
 */
public class SenderMxResource implements QuarkusTestResourceLifecycleManager {

    public static final String DOMAIN = "sender.test";
    public static final String DIR_KEY = "test.sender-mx.dir";

    private CaptureMx mx;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("sender-mx");
            mx = CaptureMx.start(0, dir);
            return Map.of("relay.delivery.routes.\"" + DOMAIN + "\"", "127.0.0.1:" + mx.port() + ";tls=none",
                    DIR_KEY, dir.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        if (mx != null) {
            mx.close();
        }
    }

    /** Every message in the mailbox directory, as text. */
    static List<String> mailbox(String dir) {
        try (Stream<Path> files = Files.list(Path.of(dir))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".eml")).sorted().map(f -> {
                try {
                    return Files.readString(f, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
