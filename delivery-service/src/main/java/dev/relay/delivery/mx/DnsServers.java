package dev.relay.delivery.mx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The DNS servers to ask: {@code relay.delivery.dns.servers} when set, else the {@code nameserver} lines of
 * /etc/resolv.conf (the system's resolvers), in order.
 */
public final class DnsServers {

    /** One resolver to ask. */
    public record Server(String host, int port) {
    }

    public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");

    private DnsServers() {
    }

    public static List<Server> choose(Optional<List<String>> configured, Path resolvConf) {
        if (configured.isPresent() && !configured.get().isEmpty()) {
            return configured.get().stream().map(DnsServers::server).toList();
        }
        return fromResolvConf(resolvConf);
    }

    static List<Server> fromResolvConf(Path resolvConf) {
        List<Server> servers = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(resolvConf)) {
                String[] words = line.strip().split("\\s+");
                if (words.length >= 2 && words[0].equals("nameserver")) {
                    String host = words[1];
                    int zone = host.indexOf('%'); // fe80::1%eth0: Vert.x cannot use a scoped address
                    if (zone < 0) {
                        servers.add(new Server(host, 53));
                    }
                }
            }
        } catch (IOException e) {
            // no resolv.conf: fall through to the empty list, the caller uses Vert.x's default
        }
        return servers;
    }

    private static Server server(String text) {
        NextHopSpec spec = NextHopSpec.parse(text);
        return new Server(spec.host(), spec.port() == 0 ? 53 : spec.port());
    }
}
