package dev.relay.delivery.messaging;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An empty credentials directory for the delivery service under test ({@code relay.delivery.auth.credentials-dir}),
 * as a Secret volume would provide it; tests write credentials into it (they are read when first used).
 */
public class CredentialsDirResource implements QuarkusTestResourceLifecycleManager {

    public static final String KEY = "relay.delivery.auth.credentials-dir";

    @Override
    public Map<String, String> start() {
        try {
            return Map.of(KEY, Files.createTempDirectory("relay-credentials").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
    }
}
