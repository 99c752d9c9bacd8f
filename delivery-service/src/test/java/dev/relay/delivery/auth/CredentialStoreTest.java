package dev.relay.delivery.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Credentials from files laid out as a Kubernetes Secret volume mounts them; rotation; nothing secret leaks. */
class CredentialStoreTest {

    private static Vertx vertx;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldReadACredentialAndKeepItsSecretOutOfToString() throws Exception {
        write("provider", "PLAIN\n", "relay@example.net\n", "password", "top-secret\n");

        Credential c = get(new CredentialStore(vertx, dir, Duration.ofMinutes(1)).lookup("provider"));

        assertThat(c.mechanism()).isEqualTo(Mechanism.PLAIN);
        assertThat(c.username()).isEqualTo("relay@example.net");
        assertThat(c.secret()).isEqualTo("top-secret");
        assertThat(c.toString()).contains("provider").doesNotContain("top-secret").doesNotContain("relay@example");
    }

    @Test
    void shouldSeeARotatedSecretAfterTheReloadPeriod() throws Exception {
        write("provider", "plain", "relay", "password", "old");
        AtomicLong now = new AtomicLong();
        CredentialStore store = new CredentialStore(vertx, dir, Duration.ofSeconds(60), now::get);
        assertThat(get(store.lookup("provider")).secret()).isEqualTo("old");

        // a Secret update: new files (new modification time and size)
        write("provider", "plain", "relay", "password", "brand-new");
        assertThat(get(store.lookup("provider")).secret()).as("within the reload period: from memory")
                .isEqualTo("old");
        now.addAndGet(Duration.ofSeconds(61).toNanos());
        assertThat(get(store.lookup("provider")).secret()).isEqualTo("brand-new");
    }

    @Test
    void shouldFailWithTheNameAndNeverTheContent() {
        CredentialStore store = new CredentialStore(vertx, dir, Duration.ZERO);

        assertThatThrownBy(() -> get(store.lookup("absent"))).hasRootCauseInstanceOf(
                CredentialUnavailableException.class).rootCause()
                .hasMessage("credential absent not available: no directory absent in the credentials directory");
        assertThatThrownBy(() -> get(store.lookup("../etc"))).rootCause().hasMessageContaining("(invalid name)");
    }

    @Test
    void shouldRefuseMalformedFiles() throws Exception {
        CredentialStore store = new CredentialStore(vertx, dir, Duration.ZERO);
        write("nopass", "login", "relay", "token", "x");
        write("badmech", "cram-md5", "relay", "password", "x");
        write("control", "plain", "relay", "password", "line1\nline2-secret");
        write("huge", "xoauth2", "relay", "token", "t".repeat(CredentialStore.MAX_FILE + 1));

        assertThatThrownBy(() -> get(store.lookup("nopass"))).rootCause().hasMessageContaining("password missing");
        assertThatThrownBy(() -> get(store.lookup("badmech"))).rootCause()
                .hasMessageContaining("mechanism must be plain, login or xoauth2");
        assertThatThrownBy(() -> get(store.lookup("control"))).rootCause()
                .hasMessageContaining("control character").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> get(store.lookup("huge"))).rootCause().hasMessageContaining("larger than");
    }

    private void write(String name, String mechanism, String user, String secretFile, String secret)
            throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Files.writeString(home.resolve("mechanism"), mechanism);
        Files.writeString(home.resolve("username"), user);
        Files.writeString(home.resolve(secretFile), secret);
    }

    private static Credential get(Future<Credential> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
