package dev.relay.policy.dkim;

import dev.relay.policy.config.PolicyMetrics;
import dev.relay.testkit.DkimKeyFiles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The key directory: RSA and Ed25519 PKCS#8 files, bad files refused one by one, reloads without restart. */
class DkimKeysTest {

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void shouldLoadRsaAndEd25519KeysAndRefuseBadFilesWithoutAffectingTheOthers() throws Exception {
        DkimKeyFiles.write(dir, "example.test", "rsa1", DkimKeyFiles.rsa(2048).getPrivate());
        DkimKeyFiles.write(dir, "example.test", "ed1", DkimKeyFiles.ed25519().getPrivate());
        DkimKeyFiles.write(dir, "example.test", "short", DkimKeyFiles.rsa(1024).getPrivate());
        Files.writeString(dir.resolve("example.test/garbage.pem"), "not a key");
        Files.writeString(dir.resolve("example.test/notes.txt"), "ignored: not .pem");
        Files.createDirectories(dir.resolve("example.test/..data")); // a Secret volume's internals
        DkimKeys keys = new DkimKeys(dir, Duration.ZERO, new PolicyMetrics(registry));

        keys.reload();

        assertThat(keys.loaded()).containsExactly("example.test/ed1", "example.test/rsa1");
        assertThat(keys.key("EXAMPLE.test", "RSA1")).get().extracting(SigningKey::algorithm)
                .isEqualTo(DkimAlgorithm.RSA_SHA256);
        assertThat(keys.key("example.test", "ed1")).get().extracting(SigningKey::algorithm)
                .isEqualTo(DkimAlgorithm.ED25519_SHA256);
        assertThat(failures()).isEqualTo(2.0);
        assertThat(registry.get("relay.policy.dkim.keys").tags("domain", "example.test", "selector", "rsa1").gauge()
                .value()).isEqualTo(1.0);

        keys.reload(); // the same bad files again: no new warning, no new count
        assertThat(failures()).isEqualTo(2.0);
    }

    @Test
    void shouldPickUpAddedChangedAndRemovedKeysOnReload() throws Exception {
        DkimKeys keys = new DkimKeys(dir, Duration.ZERO, new PolicyMetrics(registry));
        keys.reload();
        assertThat(keys.loaded()).isEmpty();

        Path old = DkimKeyFiles.write(dir, "example.test", "2026a", DkimKeyFiles.rsa(2048).getPrivate());
        keys.reload();
        assertThat(keys.loaded()).containsExactly("example.test/2026a");

        // rotation: both selectors live at once, then the old one goes
        DkimKeyFiles.write(dir, "example.test", "2026b", DkimKeyFiles.ed25519().getPrivate());
        keys.reload();
        assertThat(keys.loaded()).containsExactly("example.test/2026a", "example.test/2026b");
        Files.delete(old);
        keys.reload();
        assertThat(keys.loaded()).containsExactly("example.test/2026b");
        assertThat(registry.find("relay.policy.dkim.keys").tags("selector", "2026a").gauge()).isNull();

        // a key file broken in place is dropped, the others stay
        Files.writeString(dir.resolve("example.test/2026b.pem"), "broken");
        DkimKeyFiles.write(dir, "other.test", "s1", DkimKeyFiles.ed25519().getPrivate());
        keys.reload();
        assertThat(keys.loaded()).containsExactly("other.test/s1");
    }

    @Test
    void shouldStartWithoutAKeyDirectory() {
        DkimKeys keys = new DkimKeys(dir.resolve("missing"), Duration.ZERO, new PolicyMetrics(registry));
        keys.reload();
        assertThat(keys.loaded()).isEmpty();
    }

    @Test
    void shouldNameWhatIsWrongWithAFileWithoutShowingTheKey() throws Exception {
        KeyPair weak = DkimKeyFiles.rsa(1024);
        assertThatThrownBy(() -> KeyFiles.parse("example.test", "s", DkimKeyFiles.pem(weak.getPrivate())
                .getBytes(StandardCharsets.US_ASCII))).isInstanceOf(KeyFiles.BadKey.class)
                .hasMessage("an RSA key of 1024 bits: at least 2048 are required");
        String pkcs1 = DkimKeyFiles.pem(weak.getPrivate()).replace(KeyFiles.PEM_TYPE, "RSA " + KeyFiles.PEM_TYPE);
        assertThatThrownBy(() -> KeyFiles.parse("example.test", "s", pkcs1.getBytes(StandardCharsets.US_ASCII)))
                .hasMessageContaining("convert it to PKCS#8");
        assertThatThrownBy(() -> KeyFiles.parse("example.test", "s", "hello".getBytes(StandardCharsets.US_ASCII)))
                .hasMessageContaining("PKCS#8");

        KeyPair good = DkimKeyFiles.rsa(2048);
        SigningKey key = KeyFiles.parse("Example.TEST", "s", DkimKeyFiles.pem(good.getPrivate())
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(key.domain()).isEqualTo("example.test");
        assertThat(key.bits()).isEqualTo(2048);
        String encoded = Base64.getEncoder().encodeToString(good.getPrivate().getEncoded());
        assertThat(key.toString()).contains("example.test/s", "redacted").doesNotContain(encoded.substring(40, 80));
    }

    private double failures() {
        var counter = registry.find("relay.policy.dkim.failures").tags("reason", "key-invalid").counter();
        return counter == null ? 0 : counter.count();
    }
}
