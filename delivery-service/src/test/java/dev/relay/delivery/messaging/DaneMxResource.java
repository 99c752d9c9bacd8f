package dev.relay.delivery.messaging;

import dev.relay.delivery.tls.TestPki;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.testkit.DnsResponder;
import dev.relay.testkit.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Two DNSSEC-signed domains whose MX is one STARTTLS server (a certificate made at run time) on port 0, for the
 * delivery service with {@code relay.delivery.dns.dnssec=true}: {@value #GOOD}'s MX host has a TLSA record that
 * matches the server's key, {@value #BAD}'s one that does not. The service reaches them by MX
 * ({@code relay.delivery.smtp.port} is the server's port).
 * <p>
 * This service instance reads its own outbound topic ({@value #TOPIC}) and retry tiers ({@value #RETRY_PREFIX}.1s,
 * .2s) on the shared test broker: other delivery instances of the build (in the shared consumer groups, with
 * another DNS) never take its records, and it never takes theirs.
 */
public class DaneMxResource implements QuarkusTestResourceLifecycleManager {

    public static final String GOOD = "good.dane.test";
    public static final String BAD = "bad.dane.test";
    public static final String TOPIC = "relay.outbound.dane-test";
    public static final String RETRY_PREFIX = "relay.retry.dane-test";

    private DnsResponder dns;
    private ScriptedSmtpServer server;

    @Override
    public Map<String, String> start() {
        KafkaBroker.shared().createTopics(List.of(TOPIC, RETRY_PREFIX + ".1s", RETRY_PREFIX + ".2s"), 3);
        TestPki.Issued leaf = TestPki.selfSigned("mx." + GOOD);
        try {
            server = new ScriptedSmtpServer().ehlo("250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS")
                    .tls(leaf.serverContext()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        dns = DnsResponder.start().signed("dane.test")
                .mx(GOOD, 10, "mx." + GOOD).a("mx." + GOOD, "127.0.0.1")
                .mx(BAD, 10, "mx." + BAD).a("mx." + BAD, "127.0.0.1")
                .tlsa("_" + server.port() + "._tcp.mx." + GOOD, 3, 1, 1, leaf.spkiSha256())
                .tlsa("_" + server.port() + "._tcp.mx." + BAD, 3, 1, 1, TestPki.selfSigned("x.test").spkiSha256());
        return Map.of("mp.messaging.incoming.outbound.topic", TOPIC,
                "mp.messaging.incoming.outbound.group.id", "relay-delivery-dane-test",
                "relay.delivery.retry.topic-prefix", RETRY_PREFIX,
                "relay.delivery.retry.group-id", "relay-delivery-retry-dane-test",
                "relay.delivery.dns.servers", dns.address(),
                "relay.delivery.dns.dnssec", "true",
                "relay.delivery.dns.timeout", "2s",
                "relay.delivery.smtp.port", String.valueOf(server.port()));
    }

    @Override
    public void stop() {
        if (dns != null) {
            dns.close();
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                // stopping anyway
            }
        }
    }
}
