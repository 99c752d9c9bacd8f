package dev.relay.delivery.messaging;

import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.testkit.DnsResponder;
import dev.relay.testkit.HttpsPolicyServer;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.TestCa;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The internet of {@link TlsRptKafkaDeliveryTest}: a DNS responder (the delivery's only resolver, DNSSEC trusted),
 * one HTTPS server that serves the MTA-STS policies and takes the TLS-RPT POSTs ({@value #RUA_HOST}), and one
 * STARTTLS SMTP server, all with certificates of a run-time CA the delivery trusts. {@value #ENFORCED} has an
 * enforce policy its MX matches (a pass), {@value #MISMATCHED} one its MX does not match (a failure),
 * {@value #DANE_BAD} is DNSSEC-signed with a TLSA record that matches no certificate (a DANE failure). Each
 * publishes {@code _smtp._tls} with the HTTPS rua; {@value #ENFORCED} also a {@code mailto:} rua at
 * {@value #REPORTS}, whose MX is the same SMTP server.
 * <p>
 * This instance reads its own outbound topic and retry tiers and aggregates its own TLS-RPT topic in its own
 * group, with a window of {@value #WINDOW}.
 */
public class TlsRptWorld implements QuarkusTestResourceLifecycleManager {

    static final String ENFORCED = "enforced.sts.tlsrpt.test";
    static final String MISMATCHED = "mismatched.sts.tlsrpt.test";
    static final String DANE_BAD = "bad.dane.tlsrpt.test";
    static final String REPORTS = "reports.tlsrpt.test";
    static final String RUA_HOST = "rua.tlsrpt.test";
    static final String TOPIC = "relay.outbound.t-tlsrpt";
    static final String RETRY_PREFIX = "relay.retry.t-tlsrpt";
    static final String TLSRPT_TOPIC = "relay.tlsrpt.t-tlsrpt";
    static final String SENDER = "tlsrpt@relay.test";
    static final String WINDOW = "20s";

    /** The config key naming the directory where every POST is written ({@code <n>.type}, {@code <n>.body}). */
    static final String POSTS_KEY = "test.tlsrpt.posts-dir";

    private HttpsPolicyServer https;
    private DnsResponder dns;
    private ScriptedSmtpServer mx;

    @Override
    public Map<String, String> start() {
        KafkaBroker.shared().createTopics(List.of(TOPIC, RETRY_PREFIX + ".1s", RETRY_PREFIX + ".2s", TLSRPT_TOPIC),
                3);
        try {
            TestCa ca = TestCa.create();
            Path trust = ca.writeCertificatePem(Files.createTempFile("tlsrpt-ca", ".pem"));
            Path posts = Files.createTempDirectory("tlsrpt-posts");
            AtomicInteger n = new AtomicInteger();
            https = HttpsPolicyServer.start(ca.serverContext("mta-sts." + ENFORCED, "mta-sts." + MISMATCHED,
                            RUA_HOST))
                    .policy(ENFORCED, "enforce", "mx." + ENFORCED)
                    .policy(MISMATCHED, "enforce", "*.mail." + MISMATCHED)
                    .onPost(post -> {
                        int i = n.incrementAndGet();
                        try {
                            Files.write(posts.resolve(i + ".body"), post.body());
                            Files.writeString(posts.resolve(i + ".type"), post.host() + " " + post.path() + " "
                                    + post.contentType());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
            mx = new ScriptedSmtpServer().ehlo("250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS")
                    .tls(ca.serverContext("mx." + ENFORCED, "mx." + MISMATCHED, "mx." + DANE_BAD, "mx." + REPORTS))
                    .start(InetAddress.getByName("127.0.0.1"), 0);
            String rua = "https://" + RUA_HOST + ":" + https.port() + "/tlsrpt";
            dns = DnsResponder.start().signed("dane.tlsrpt.test").a(RUA_HOST, "127.0.0.1")
                    .mx(REPORTS, 10, "mx." + REPORTS).a("mx." + REPORTS, "127.0.0.1")
                    .mx(DANE_BAD, 10, "mx." + DANE_BAD).a("mx." + DANE_BAD, "127.0.0.1")
                    .tlsa("_" + mx.port() + "._tcp.mx." + DANE_BAD, 3, 1, 1, new byte[32])
                    .txt("_smtp._tls." + DANE_BAD, "v=TLSRPTv1; rua=" + rua)
                    .txt("_smtp._tls." + MISMATCHED, "v=TLSRPTv1; rua=" + rua)
                    .txt("_smtp._tls." + ENFORCED, "v=TLSRPTv1; rua=" + rua + ",mailto:tls-reports@" + REPORTS);
            for (String domain : new String[]{ENFORCED, MISMATCHED}) {
                dns.txt("_mta-sts." + domain, "v=STSv1; id=tlsrpt1").a("mta-sts." + domain, "127.0.0.1")
                        .mx(domain, 10, "mx." + domain).a("mx." + domain, "127.0.0.1");
            }
            Map<String, String> config = new HashMap<>();
            config.put("mp.messaging.incoming.outbound.topic", TOPIC);
            config.put("mp.messaging.incoming.outbound.group.id", "t-relay-delivery-tlsrpt-test");
            config.put("relay.delivery.retry.topic-prefix", RETRY_PREFIX);
            config.put("relay.delivery.retry.group-id", "t-relay-delivery-retry-tlsrpt-test");
            config.put("relay.delivery.dns.servers", dns.address());
            config.put("relay.delivery.dns.dnssec", "true");
            config.put("relay.delivery.dns.timeout", "5s");
            config.put("relay.delivery.tls.trust-store", trust.toString());
            config.put("relay.delivery.mta-sts.test-only-https-port", String.valueOf(https.port()));
            config.put("relay.delivery.smtp.port", String.valueOf(mx.port()));
            config.put("relay.delivery.tlsrpt.enabled", "true");
            config.put("relay.delivery.tlsrpt.window", WINDOW);
            config.put("relay.delivery.tlsrpt.topic", TLSRPT_TOPIC);
            config.put("relay.delivery.tlsrpt.group-id", "t-relay-delivery-tlsrpt-aggregator");
            config.put("relay.delivery.tlsrpt.sender", SENDER);
            config.put("relay.delivery.tlsrpt.organization-name", "Relay Test");
            config.put("relay.delivery.tlsrpt.send-timeout", "10s");
            config.put(POSTS_KEY, posts.toString());
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        try {
            if (mx != null) {
                mx.close();
            }
        } catch (IOException e) {
            // stopping anyway
        }
        if (https != null) {
            https.close();
        }
        if (dns != null) {
            dns.close();
        }
    }
}
