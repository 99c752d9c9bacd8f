package dev.relay.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the repository root, where {@code .cache/}, {@code .run/} and {@code deploy/} live. */
public final class RelayRoot {

    private RelayRoot() {
    }

    /**
     * The repository root: the system property {@code relay.root} if set (Maven sets it to the reactor root), else the
     * nearest directory, walking up from the current directory, that contains both {@code pom.xml} and
     * {@code relay-testkit/}. A {@code relay.root} that is not itself the root (Maven run inside a module) is walked up
     * from in the same way.
     */
    public static Path get() {
        String property = System.getProperty("relay.root");
        if (property != null && !property.isBlank()) {
            Path found = walkUp(Paths.get(property.trim()));
            if (found != null) {
                return found;
            }
        }
        Path found = walkUp(Paths.get(""));
        if (found == null) {
            throw new IllegalStateException("Cannot find the Relay repository root (a directory with pom.xml and"
                    + " relay-testkit/) above " + Paths.get("").toAbsolutePath() + "; set -Drelay.root=...");
        }
        return found;
    }

    private static Path walkUp(Path start) {
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("relay-testkit"))) {
                return dir;
            }
        }
        return null;
    }
}
