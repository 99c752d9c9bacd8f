package dev.relay.delivery.destination;

import java.util.Locale;

/**
 * What per-destination limits count against: one remote SMTP service, named by the host we were told to use (the
 * MX host, or the host of a static route or smarthost) and its port. All IP addresses of one host share its
 * limits, because a throttling reply speaks for the service, not for one of its addresses; two MX hosts of one
 * domain are two destinations. Few enough to keep in memory, never used as a metric tag.
 *
 * @param host the host name, lower case, without a trailing dot
 * @param port the TCP port
 */
public record Destination(String host, int port) {

    public static Destination of(String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        return new Destination(h.endsWith(".") ? h.substring(0, h.length() - 1) : h, port);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
