package dev.relay.common;

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
 * The shape of relay-common, read from its own sources: its packages import each other without a circle, and
 * the rule engine (rate-limit logic included) stays pure — Kafka is spoken in {@code kafka}, in {@code usage}
 * (rate-limit counting) and by the one rules follower, nowhere else in {@code rules}.
 */
class PackageImportsTest {

    private static final Path SOURCES = Path.of("src/main/java/dev/relay/common");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.relay\\.common\\.(\\w+)\\.",
            Pattern.MULTILINE);

    @Test
    void shouldHaveNoImportCircleBetweenPackages() throws IOException {
        Map<String, Set<String>> imports = new TreeMap<>();
        for (Path file : javaFiles(SOURCES)) {
            String pkg = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
            Matcher m = IMPORT.matcher(Files.readString(file));
            Set<String> targets = imports.computeIfAbsent(pkg, k -> new TreeSet<>());
            while (m.find()) {
                if (!m.group(1).equals(pkg)) {
                    targets.add(m.group(1));
                }
            }
        }
        List<String> circles = new ArrayList<>();
        for (String start : imports.keySet()) {
            if (reaches(imports, start, start, new HashSet<>())) {
                circles.add(start);
            }
        }
        assertThat(circles).as("packages on an import circle (%s)", imports).isEmpty();
    }

    @Test
    void shouldKeepKafkaOutOfTheRuleEngine() throws IOException {
        List<String> kafkaInRules = new ArrayList<>();
        for (Path file : javaFiles(SOURCES.resolve("rules"))) {
            if (Files.readString(file).contains("import org.apache.kafka.")) {
                kafkaInRules.add(file.getFileName().toString());
            }
        }
        assertThat(kafkaInRules).containsExactly("RulesFollower.java");
        assertThat(SOURCES.resolve("usage/UsageCounter.java")).exists();
    }

    private static boolean reaches(Map<String, Set<String>> imports, String from, String target, Set<String> seen) {
        for (String next : imports.getOrDefault(from, Set.of())) {
            if (next.equals(target) || (seen.add(next) && reaches(imports, next, target, seen))) {
                return true;
            }
        }
        return false;
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }
}
