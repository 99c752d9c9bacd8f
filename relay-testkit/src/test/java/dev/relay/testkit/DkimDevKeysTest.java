package dev.relay.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The development DKIM keys of {@code ./relay up}: generated once, kept, and their TXT values written. */
class DkimDevKeysTest {

    @TempDir
    Path root;

    @Test
    void shouldGenerateAKeyPerDomainOnceAndWriteItsTxtValue() throws Exception {
        List<Path> records = DkimDevKeys.ensure(root, List.of("example.test", "Other.TEST"), "relay");

        Path key = root.resolve(".run/dkim/keys/example.test/relay.pem");
        assertTrue(Files.isRegularFile(key));
        assertTrue(Files.isRegularFile(root.resolve(".run/dkim/keys/other.test/relay.pem")));
        assertEquals(List.of(root.resolve(".run/dkim/relay._domainkey.example.test.txt"),
                root.resolve(".run/dkim/relay._domainkey.other.test.txt")), records);
        String txt = Files.readString(records.get(0));
        assertTrue(txt.startsWith("v=DKIM1; k=rsa; p=MII"), txt);

        // kept across restarts: the same key, the same TXT value
        String before = Files.readString(key);
        DkimDevKeys.ensure(root, List.of("example.test"), "relay");
        assertEquals(before, Files.readString(key));
        assertEquals(txt, Files.readString(records.get(0)));
    }
}
