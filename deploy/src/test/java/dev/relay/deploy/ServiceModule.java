package dev.relay.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a service really reads, derived from its sources: the keys of its {@code application.properties} (plus the
 * keys those values reference as {@code ${key:default}}) and every key of the {@code @ConfigMapping} interfaces in
 * its {@code src/main/java} and in relay-common (a bean archive, so its mappings are active in every service).
 * Interface methods become kebab-case keys under the prefix; nested interfaces extend the prefix; {@code Map}
 * properties accept any sub-key.
 */
final class ServiceModule {

    /** Deployment name → Maven module. */
    static final Map<String, String> MODULES = Map.of(
            "relay-ingress", "ingress-service",
            "relay-policy", "policy-service",
            "relay-delivery", "delivery-service");

    private static final Pattern PREFIX = Pattern.compile("@ConfigMapping\\s*\\(\\s*prefix\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern STRING = Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"");
    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)[^{]*\\{");
    private static final Pattern METHOD = Pattern.compile("^(?<annotations>(?:@\\w+(?:\\s*\\([^)]*\\))?\\s*)*)"
            + "(?<type>[\\w.]+(?:\\s*<[\\w.<>, ?\\[\\]]*>)?(?:\\[\\])?)\\s+(?<name>\\w+)\\s*\\(\\s*\\)$");
    private static final Pattern DEFAULT = Pattern.compile("@WithDefault\\s*\\(\\s*\"S(\\d+)\"\\s*\\)");
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^:}]+)(?::([^}]*))?}");

    final String deployment;
    final Path dir;
    final Properties properties;
    /** Exact keys with their default (null when none). */
    final Map<String, String> keys = new LinkedHashMap<>();
    /** Prefixes under which any key is read (Map-typed mapping properties). */
    final Set<String> keyPrefixes = new LinkedHashSet<>();

    private ServiceModule(String deployment) {
        this.deployment = deployment;
        this.dir = Repository.ROOT.resolve(MODULES.get(deployment));
        this.properties = load(dir.resolve("src/main/resources/application.properties"));
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith("%")) {
                continue;
            }
            keys.put(key, properties.getProperty(key));
            Matcher ref = REFERENCE.matcher(properties.getProperty(key));
            while (ref.find()) {
                keys.putIfAbsent(ref.group(1), ref.group(2));
            }
        }
        for (Path sources : List.of(dir.resolve("src/main/java"), Repository.ROOT.resolve("relay-common/src/main/java"))) {
            for (Path file : javaFiles(sources)) {
                String source = Repository.read(file);
                Matcher prefix = PREFIX.matcher(source);
                if (prefix.find()) {
                    readMapping(source, prefix.group(1));
                }
            }
        }
    }

    static ServiceModule of(String deployment) {
        if (!MODULES.containsKey(deployment)) {
            throw new IllegalArgumentException("not a Relay service: " + deployment);
        }
        return new ServiceModule(deployment);
    }

    /** SmallRye Reactive Messaging with the Kafka connector hands every {@code kafka.*} key to each channel. */
    boolean passesKafkaClientProperties() {
        return keys.entrySet().stream().anyMatch(e -> e.getKey().startsWith("mp.messaging.")
                && e.getKey().endsWith(".connector") && "smallrye-kafka".equals(e.getValue()))
                || javaFiles(dir.resolve("src/main/java")).stream()
                        .anyMatch(f -> Repository.read(f).contains("default-kafka-broker"));
    }

    /**
     * Variables the image's launcher reads besides the service's keys: the run-java.sh of the UBI OpenJDK runtime
     * image (src/main/docker/Dockerfile.jvm) sizes and tunes the JVM from these.
     */
    static final Set<String> LAUNCHER_ENVIRONMENT = Set.of("JAVA_OPTS", "JAVA_OPTS_APPEND", "JAVA_MAX_MEM_RATIO",
            "JAVA_INITIAL_MEM_RATIO", "JAVA_MAX_INITIAL_MEM", "JAVA_DIAGNOSTICS", "JAVA_APP_JAR");

    private static final Pattern ENV_LINE = Pattern.compile("^ENV\\s+(\\w+)=\"?([^\"]*)\"?\\s*$", Pattern.MULTILINE);

    /** The ENV of the service's image (Dockerfile.jvm), name → value. */
    Map<String, String> imageEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        Path dockerfile = dir.resolve("src/main/docker/Dockerfile.jvm");
        if (Files.isRegularFile(dockerfile)) {
            Matcher m = ENV_LINE.matcher(Repository.read(dockerfile));
            while (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        }
        return env;
    }

    /** Variables of the image and its launcher that a container may set besides the service's keys. */
    Set<String> imageEnvironment() {
        Set<String> names = new LinkedHashSet<>(LAUNCHER_ENVIRONMENT);
        names.addAll(imageEnv().keySet());
        return names;
    }

    /** The image's own JAVA_OPTS_APPEND (a container's JAVA_OPTS_APPEND replaces it). */
    String imageJavaOptsAppend() {
        return imageEnv().getOrDefault("JAVA_OPTS_APPEND", "");
    }

    /** The environment variable of a key: upper case, every non-alphanumeric character as {@code _}. */
    static String envName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /** The key an environment variable sets, when the service reads it. */
    Optional<String> keyOf(String env) {
        for (String key : keys.keySet()) {
            if (envName(key).equals(env)) {
                return Optional.of(key);
            }
        }
        for (String prefix : keyPrefixes) {
            if (env.startsWith(envName(prefix) + "_")) {
                return Optional.of(prefix + ".*");
            }
        }
        if (passesKafkaClientProperties() && env.startsWith("KAFKA_")) {
            return Optional.of("kafka.* (Kafka client property)");
        }
        return Optional.empty();
    }

    /** The effective value of a key: the container's environment first, then application.properties / default. */
    String value(String key, Map<String, String> env) {
        String raw = env.containsKey(envName(key)) ? env.get(envName(key)) : keys.get(key);
        if (raw == null) {
            return null;
        }
        Matcher ref = REFERENCE.matcher(raw);
        StringBuilder out = new StringBuilder();
        while (ref.find()) {
            String resolved = value(ref.group(1), env);
            ref.appendReplacement(out, Matcher.quoteReplacement(
                    resolved != null ? resolved : ref.group(2) != null ? ref.group(2) : ""));
        }
        ref.appendTail(out);
        return out.toString();
    }

    private void readMapping(String source, String prefix) {
        List<String> strings = new ArrayList<>();
        Matcher s = STRING.matcher(source);
        StringBuilder masked = new StringBuilder();
        while (s.find()) {
            strings.add(s.group().substring(1, s.group().length() - 1));
            s.appendReplacement(masked, "\"S" + (strings.size() - 1) + "\"");
        }
        s.appendTail(masked);
        String code = masked.toString().replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
        Map<String, String> bodies = new LinkedHashMap<>();
        Matcher i = INTERFACE.matcher(code);
        while (i.find()) {
            bodies.put(i.group(1), flatten(code.substring(i.end(), closing(code, i.end() - 1))));
        }
        String top = bodies.keySet().iterator().next();
        readInterface(top, prefix, bodies, strings);
    }

    private void readInterface(String name, String prefix, Map<String, String> bodies, List<String> strings) {
        for (String statement : bodies.get(name).split(";")) {
            String st = statement.strip().replaceAll("\\s+", " ");
            if (st.isEmpty() || st.startsWith("default ") || st.startsWith("static ") || st.contains("interface ")) {
                continue;
            }
            Matcher m = METHOD.matcher(st);
            if (!m.matches()) {
                continue;
            }
            String key = prefix + "." + kebab(m.group("name"));
            String type = m.group("type").replaceAll("\\s", "");
            if (bodies.containsKey(type)) {
                readInterface(type, key, bodies, strings);
            } else if (type.startsWith("Map<")) {
                keyPrefixes.add(key);
            } else {
                Matcher d = DEFAULT.matcher(m.group("annotations"));
                keys.put(key, d.find() ? strings.get(Integer.parseInt(d.group(1))) : null);
            }
        }
    }

    /** The body of an interface with every nested {...} block removed (nested interfaces, default methods). */
    private static String flatten(String body) {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        for (char c : body.toCharArray()) {
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                if (depth == 0) {
                    out.append(';');
                }
            } else if (depth == 0) {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int closing(String code, int open) {
        int depth = 0;
        for (int p = open; p < code.length(); p++) {
            if (code.charAt(p) == '{') {
                depth++;
            } else if (code.charAt(p) == '}' && --depth == 0) {
                return p;
            }
        }
        throw new IllegalStateException("unbalanced braces");
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    private static Properties load(Path file) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(file)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    private static List<Path> javaFiles(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
