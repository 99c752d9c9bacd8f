package dev.relay.delivery.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Credentials from files, as a Kubernetes Secret volume mounts them: {@code <dir>/<name>/mechanism}
 * ({@code plain}, {@code login} or {@code xoauth2}), {@code <dir>/<name>/username}, and
 * {@code <dir>/<name>/password} (PLAIN, LOGIN) or {@code <dir>/<name>/token} (XOAUTH2). Surrounding white space
 * (the trailing newline of {@code echo}) is removed.
 *
 * <p>Rotation without a restart: a credential read once is served from memory for {@code reloadPeriod}; after
 * that the next lookup checks the files again and re-reads them when their real path or modification time
 * changed (a Secret update swaps the {@code ..data} link, so both change). Files are only touched on a worker
 * thread ({@code executeBlocking}), never on an event loop. A credential that cannot be read is not cached: each
 * attempt looks again, so mounting the Secret fixes the deferred mail at its next retry.
 *
 * <p>Bounds: each file at most {@value #MAX_FILE} octets, at most {@value #MAX_ENTRIES} credentials cached (the
 * names come from configuration and rule sets, so this is never reached in practice). Nothing read here is ever
 * logged or put into an exception message.
 */
public final class CredentialStore {

    private static final Logger LOG = Logger.getLogger(CredentialStore.class);

    /** A bearer token is a few kilobytes at most; a password far less. */
    static final int MAX_FILE = 16 * 1024;
    static final int MAX_ENTRIES = 1024;

    private record Entry(Credential credential, String fingerprint, long checkedAt) {
    }

    private final Vertx vertx;
    private final Path dir;
    private final long reloadNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    public CredentialStore(Vertx vertx, Path dir, Duration reloadPeriod) {
        this(vertx, dir, reloadPeriod, System::nanoTime);
    }

    CredentialStore(Vertx vertx, Path dir, Duration reloadPeriod, LongSupplier nanoClock) {
        if (reloadPeriod.isNegative()) {
            throw new IllegalArgumentException("relay.delivery.auth.reload-period must not be negative");
        }
        this.vertx = vertx;
        this.dir = dir;
        this.reloadNanos = reloadPeriod.toNanos();
        this.nanoClock = nanoClock;
    }

    public Path dir() {
        return dir;
    }

    /**
     * The credential called {@code name}; fails with {@link CredentialUnavailableException} when it cannot be
     * used. Completes on the caller's context when served from memory, else on a worker thread.
     */
    public Future<Credential> lookup(String name) {
        if (!Credential.validName(name)) {
            return Future.failedFuture(new CredentialUnavailableException("(invalid name)",
                    "credential names are [a-z0-9-]{1,63}"));
        }
        Entry cached = cache.get(name);
        if (cached != null && nanoClock.getAsLong() - cached.checkedAt() < reloadNanos) {
            return Future.succeededFuture(cached.credential());
        }
        return vertx.executeBlocking(() -> load(name, cached), false);
    }

    /** On a worker thread: the files again, re-read only when they changed. */
    private Credential load(String name, Entry cached) {
        Path home = dir.resolve(name);
        Mechanism mechanism;
        String fingerprint;
        try {
            mechanism = Mechanism.parse(read(name, home, "mechanism"));
            fingerprint = fingerprint(home, mechanism);
        } catch (IllegalArgumentException e) {
            throw new CredentialUnavailableException(name, "file mechanism: " + e.getMessage());
        }
        long now = nanoClock.getAsLong();
        if (cached != null && cached.fingerprint().equals(fingerprint)
                && cached.credential().mechanism() == mechanism) {
            cache.put(name, new Entry(cached.credential(), fingerprint, now));
            return cached.credential();
        }
        String username = read(name, home, "username");
        String secret = read(name, home, mechanism.secretFile());
        checkText(name, "username", username);
        checkText(name, mechanism.secretFile(), secret);
        Credential credential = new Credential(name, mechanism, username, secret);
        if (cache.size() < MAX_ENTRIES || cache.containsKey(name)) {
            cache.put(name, new Entry(credential, fingerprint, now));
        }
        if (cached != null) {
            LOG.infof("credential %s re-read from %s (changed)", name, home);
        }
        return credential;
    }

    /** Real path and modification time of every file of the credential: changes when a Secret is updated. */
    private String fingerprint(Path home, Mechanism mechanism) {
        StringBuilder print = new StringBuilder();
        for (String file : new String[]{"mechanism", "username", mechanism.secretFile()}) {
            Path p = home.resolve(file);
            try {
                print.append(p.toRealPath()).append('@').append(Files.getLastModifiedTime(p).toMillis())
                        .append('/').append(Files.size(p)).append(';');
            } catch (IOException e) {
                print.append(file).append(":missing;");
            }
        }
        return print.toString();
    }

    private static String read(String name, Path home, String file) {
        Path p = home.resolve(file);
        try {
            if (Files.size(p) > MAX_FILE) {
                throw new CredentialUnavailableException(name, "file " + file + " is larger than " + MAX_FILE
                        + " octets");
            }
            byte[] bytes = Files.readAllBytes(p);
            if (bytes.length > MAX_FILE) {
                throw new CredentialUnavailableException(name, "file " + file + " is larger than " + MAX_FILE
                        + " octets");
            }
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString().strip();
            if (text.isEmpty()) {
                throw new CredentialUnavailableException(name, "file " + file + " is empty");
            }
            return text;
        } catch (NoSuchFileException e) {
            throw new CredentialUnavailableException(name, Files.isDirectory(home) ? "file " + file + " missing"
                    : "no directory " + name + " in the credentials directory");
        } catch (CharacterCodingException e) {
            throw new CredentialUnavailableException(name, "file " + file + " is not UTF-8");
        } catch (IOException e) {
            throw new CredentialUnavailableException(name, "file " + file + " unreadable ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * Control characters would break the SASL framing (NUL in PLAIN, ^A in XOAUTH2) or the command line (CR, LF).
     */
    private static void checkText(String name, String file, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new CredentialUnavailableException(name, "file " + file + " contains a control character");
            }
        }
    }
}
