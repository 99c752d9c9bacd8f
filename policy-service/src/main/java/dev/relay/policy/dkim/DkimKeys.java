package dev.relay.policy.dkim;

import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.config.PolicyMetrics;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The signing keys of this instance: {@code <keys-dir>/<domain>/<selector>.pem} (in Kubernetes one Secret per domain,
 * mounted as a directory), read at start and again every {@code relay.policy.dkim.reload-period} on a thread of its
 * own (never an event loop), so that a key added, rotated or removed takes effect without a restart. Both
 * selectors of a rotation can be loaded at once; the rule set names the one to sign with.
 *
 * <p>A file that is no usable key is logged at WARN with its path and the reason (once per content, not at every
 * reload), counted in {@code relay_policy_dkim_failures_total{reason="key-invalid"}}, and skipped: the other keys
 * are unaffected. Key material is never logged ({@link SigningKey#toString()} is redacted) and never leaves the
 * process. Names starting with a dot (the {@code ..data} links of a Secret volume) are skipped.
 */
@ApplicationScoped
public class DkimKeys {

    private static final Logger LOG = Logger.getLogger(DkimKeys.class);
    /** More keys than this is a misconfiguration (the gauge has one row per key): the rest is not read. */
    static final int MAX_KEYS = 10_000;

    private final Path dir;
    private final java.time.Duration period;
    private final PolicyMetrics metrics;
    private final Map<Path, String> refused = new HashMap<>();
    private volatile Map<String, SigningKey> keys = Map.of();
    private MultiGauge gauge;
    private ScheduledExecutorService timer;
    private boolean missingLogged;

    @Inject
    public DkimKeys(PolicyConfig config, PolicyMetrics metrics) {
        this(Path.of(config.dkim().keysDir()), config.dkim().reloadPeriod(), metrics);
    }

    /** For tests: a directory of their own, reloaded only when they call {@link #reload()}. */
    public DkimKeys(Path dir, java.time.Duration period, PolicyMetrics metrics) {
        this.dir = dir;
        this.period = period;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent event) {
        reload();
        if (!period.isZero() && !period.isNegative()) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "relay-dkim-keys");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::reloadQuietly, period.toMillis(), period.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** The loaded key of {@code domain} and {@code selector} (both case-insensitive). */
    public Optional<SigningKey> key(String domain, String selector) {
        return Optional.ofNullable(keys.get(name(domain, selector)));
    }

    /** {@code domain/selector} of every loaded key, sorted. */
    public List<String> loaded() {
        return keys.keySet().stream().sorted().toList();
    }

    private void reloadQuietly() {
        try {
            reload();
        } catch (RuntimeException e) {
            LOG.warnf("reading the DKIM key directory %s failed, keeping the keys loaded before: %s", dir, e.toString());
        }
    }

    /** Reads the whole directory again and replaces the loaded keys with what it holds now. */
    public synchronized void reload() {
        Map<String, SigningKey> found = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            if (!missingLogged) {
                LOG.infof("no DKIM key directory %s: nothing can be signed (relay.policy.dkim.keys-dir)", dir);
                missingLogged = true;
            }
        } else {
            missingLogged = false;
            for (Path domainDir : entries(dir)) {
                if (Files.isDirectory(domainDir)) {
                    for (Path file : entries(domainDir)) {
                        String fileName = file.getFileName().toString();
                        if (fileName.endsWith(".pem") && Files.isRegularFile(file) && found.size() < MAX_KEYS) {
                            load(domainDir.getFileName().toString(), fileName.substring(0, fileName.length() - 4),
                                    file, found);
                        }
                    }
                }
            }
        }
        refused.keySet().removeIf(p -> !Files.exists(p));
        Map<String, SigningKey> before = keys;
        keys = Map.copyOf(found);
        if (!before.keySet().equals(found.keySet())) {
            LOG.infof("DKIM keys loaded from %s: %s", dir, found.values().stream()
                    .map(k -> k.name() + " (" + k.algorithm().tag() + ")").toList());
        }
        if (metrics != null) {
            if (gauge == null) {
                gauge = metrics.dkimKeys();
            }
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            found.values().forEach(k -> rows.add(MultiGauge.Row.of(Tags.of("domain", k.domain(), "selector",
                    k.selector()), 1)));
            gauge.register(rows, true);
        }
    }

    private void load(String domain, String selector, Path file, Map<String, SigningKey> found) {
        byte[] bytes;
        try {
            if (Files.size(file) > KeyFiles.MAX_BYTES) {
                refuse(file, new byte[0], "larger than " + KeyFiles.MAX_BYTES + " bytes: not a key file");
                return;
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            refuse(file, new byte[0], "unreadable: " + e.getClass().getSimpleName());
            return;
        }
        try {
            SigningKey key = KeyFiles.parse(domain, selector.toLowerCase(Locale.ROOT), bytes);
            found.put(key.name(), key);
            refused.remove(file);
        } catch (KeyFiles.BadKey e) {
            refuse(file, bytes, e.getMessage());
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** WARN and count once per file content; a reload that finds the same bad file again stays quiet. */
    private void refuse(Path file, byte[] content, String why) {
        String print = fingerprint(content) + ":" + why;
        if (!print.equals(refused.put(file, print))) {
            LOG.warnf("DKIM key file %s not used: %s", file, why);
            if (metrics != null) {
                metrics.dkimFailure("key-invalid");
            }
        }
    }

    private static String fingerprint(byte[] content) {
        byte[] hash = DkimCanonicalizer.sha256().digest(content);
        return java.util.HexFormat.of().formatHex(hash, 0, 8);
    }

    private static List<Path> entries(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                if (!p.getFileName().toString().startsWith(".")) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            LOG.warnf("DKIM key directory %s not readable: %s", dir, e.getClass().getSimpleName());
        }
        out.sort(null);
        return out;
    }

    static String name(String domain, String selector) {
        return domain.toLowerCase(Locale.ROOT) + "/" + selector.toLowerCase(Locale.ROOT);
    }
}
