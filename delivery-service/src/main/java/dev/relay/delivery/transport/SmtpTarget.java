package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.RemoteHost;

/**
 * One address to connect to.
 *
 * @param hostName the name we were told (MX host, route host); used for SNI and certificate checks
 * @param address  the IP literal to connect to, already resolved and checked by the destination guard; the
 *                 connection goes to exactly these bytes and never resolves a name ({@code OutboundConnection.open})
 * @param port     the TCP port
 * @param tls      what TLS this hop demands
 */
public record SmtpTarget(String hostName, String address, int port, TlsPolicy tls) {

    /** {@code mx.example.org[192.0.2.1]:25}, the usual MTA notation, for events and logs. */
    public String describe() {
        return remote().describe();
    }

    /** This target as the host that answered a recipient's result. */
    public RemoteHost remote() {
        return new RemoteHost(hostName, address, port);
    }
}
