package dev.relay.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository is: the parent's {@code relay.root} system property, else found from the working directory. */
final class Repository {

    static final Path ROOT = locate();
    static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
    static final Path OVERLAYS = KUBERNETES.resolve("overlays");

    private Repository() {
    }

    private static Path locate() {
        String configured = System.getProperty("relay.root");
        if (configured != null && !configured.isBlank()
                && Files.isDirectory(Path.of(configured).resolve("deploy/kubernetes"))) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("deploy/kubernetes")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir.normalize();
            }
        }
        throw new IllegalStateException("repository root with deploy/kubernetes not found from " + Path.of("").toAbsolutePath());
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
