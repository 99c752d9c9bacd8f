package dev.relay.delivery.outcome;

/**
 * The host that answered (or, for our own limits, was held back), as fields: the DSN's Remote-MTA takes the name,
 * events and logs the usual MTA notation.
 *
 * @param hostName the name we were told (MX host, route host); may be empty
 * @param address  the IP literal connected to
 * @param port     the TCP port
 */
public record RemoteHost(String hostName, String address, int port) {

    /** {@code mx.example.org[192.0.2.1]:25}, for events and logs. */
    public String describe() {
        return hostName + "[" + address + "]:" + port;
    }

    /** For Remote-MTA: the host name, or the address when there is no name. */
    public String mta() {
        return hostName == null || hostName.isEmpty() ? address : hostName;
    }
}
