package dev.relay.policy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The policy's rooms, read from its production sources (issue 14): arrows between its packages only point one
 * way (no circle), no package is a room for one file, and the two consumers do not know each other.
 */
class PackageLayoutTest {

    private static final Path ROOT = Path.of("src/main/java/dev/relay/policy");
    private static final Pattern REFERENCE = Pattern.compile("dev\\.relay\\.policy\\.([a-z]+)\\.[A-Z]");

    @Test
    void shouldHaveNoImportCircleBetweenPackages() throws IOException {
        Map<String, Set<String>> uses = uses();
        List<String> circle = circle(uses);
        assertThat(circle).as("a circle of imports among " + uses).isEmpty();
    }

    @Test
    void shouldKeepEveryPackageFullerThanOneFile() throws IOException {
        Map<String, Integer> files = new TreeMap<>();
        for (Path file : sources()) {
            if (!file.getFileName().toString().equals("package-info.java")) {
                files.merge(packageOf(file), 1, Integer::sum);
            }
        }
        assertThat(files).as("production files per package").allSatisfy((pkg, count) -> assertThat(count)
                .as(pkg).isGreaterThan(1));
    }

    @Test
    void shouldKeepTheTwoConsumersApart() throws IOException {
        String inbound = Files.readString(ROOT.resolve("consume/InboundConsumer.java"));
        String held = Files.readString(ROOT.resolve("consume/HeldReleaser.java"));
        assertThat(inbound).doesNotContain("HeldReleaser");
        assertThat(held).doesNotContain("InboundConsumer");
    }

    /** Package → the other policy packages its files name (imports and qualified names). */
    private static Map<String, Set<String>> uses() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (Path file : sources()) {
            String from = packageOf(file);
            Set<String> to = uses.computeIfAbsent(from, k -> new TreeSet<>());
            Matcher m = REFERENCE.matcher(Files.readString(file));
            while (m.find()) {
                if (!m.group(1).equals(from)) {
                    to.add(m.group(1));
                }
            }
        }
        return uses;
    }

    private static List<String> circle(Map<String, Set<String>> uses) {
        Set<String> done = new HashSet<>();
        for (String start : uses.keySet()) {
            List<String> path = new ArrayList<>();
            if (walk(start, uses, path, done)) {
                return path;
            }
        }
        return List.of();
    }

    private static boolean walk(String pkg, Map<String, Set<String>> uses, List<String> path, Set<String> done) {
        if (path.contains(pkg)) {
            path.subList(0, path.indexOf(pkg)).clear();
            path.add(pkg);
            return true;
        }
        if (!done.add(pkg)) {
            return false;
        }
        path.add(pkg);
        for (String next : uses.getOrDefault(pkg, Set.of())) {
            if (walk(next, uses, path, done)) {
                return true;
            }
        }
        path.remove(path.size() - 1);
        return false;
    }

    private static List<Path> sources() throws IOException {
        assertThat(ROOT).as("run from the module's folder").isDirectory();
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList();
        }
    }

    private static String packageOf(Path file) {
        return ROOT.relativize(file.getParent()).toString().replace('/', '.');
    }
}
