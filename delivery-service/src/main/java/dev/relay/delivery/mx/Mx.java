package dev.relay.delivery.mx;

/**
 * One MX record.
 *
 * @param preference lower is preferred
 * @param host       the exchange host, without a trailing dot; "" for the null MX "."
 */
public record Mx(int preference, String host) {

    public static Mx of(int preference, String name) {
        String host = name == null ? "" : name.strip();
        while (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        return new Mx(preference, host);
    }
}
