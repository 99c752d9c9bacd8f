package dev.relay.delivery.mx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class DnsServersTest {

    @Test
    void shouldPreferConfiguredServers(@TempDir Path dir) {
        assertThat(DnsServers.choose(Optional.of(List.of("127.0.0.1:5353", "10.0.0.2")), dir.resolve("none")))
                .containsExactly(new DnsServers.Server("127.0.0.1", 5353), new DnsServers.Server("10.0.0.2", 53));
    }

    @Test
    void shouldReadNameserversOfResolvConf(@TempDir Path dir) throws Exception {
        Path conf = Files.writeString(dir.resolve("resolv.conf"),
                "# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n");

        assertThat(DnsServers.choose(Optional.empty(), conf)).containsExactly(
                new DnsServers.Server("192.0.2.53", 53), new DnsServers.Server("2001:db8::53", 53));
    }
}
