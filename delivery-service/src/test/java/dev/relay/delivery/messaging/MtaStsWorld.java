package dev.relay.delivery.messaging;

import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.testkit.DnsResponder;
import dev.relay.testkit.HttpsPolicyServer;
import dev.relay.testkit.TestCa;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The internet of {@link MtaStsKafkaDeliveryTest}: a DNS responder (the delivery's only resolver), an HTTPS policy
 * server and an SMTP server with STARTTLS whose certificates a run-time CA issued, which the delivery trusts through
 * {@code relay.delivery.tls.trust-store}. {@value #ENFORCED} publishes an enforce policy its MX matches;
 * {@value #MISMATCHED} one its MX does not match.
 */
public class MtaStsWorld implements QuarkusTestResourceLifecycleManager {

    static final String ENFORCED = "enforced.sts.test";
    static final String MISMATCHED = "mismatched.sts.test";

    private DnsResponder dns;
    private HttpsPolicyServer policies;
    private ScriptedSmtpServer mx;

    @Override
    public Map<String, String> start() {
        try {
            TestCa ca = TestCa.create();
            Path trust = ca.writeCertificatePem(Files.createTempFile("mta-sts-ca", ".pem"));
            policies = HttpsPolicyServer.start(ca, ENFORCED, MISMATCHED)
                    .policy(ENFORCED, "enforce", "mx." + ENFORCED)
                    .policy(MISMATCHED, "enforce", "*.mail." + MISMATCHED);
            mx = new ScriptedSmtpServer().ehlo("250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS")
                    .tls(ca.serverContext("mx." + ENFORCED, "mx." + MISMATCHED))
                    .start(InetAddress.getByName("127.0.0.1"), 0);
            dns = DnsResponder.start();
            for (String domain : new String[]{ENFORCED, MISMATCHED}) {
                dns.txt("_mta-sts." + domain, "v=STSv1; id=kafka1").a("mta-sts." + domain, "127.0.0.1")
                        .mx(domain, 10, "mx." + domain).a("mx." + domain, "127.0.0.1");
            }
            return Map.of("relay.delivery.dns.servers", dns.address(),
                    "relay.delivery.dns.timeout", "5s", // the profile's 1 s is too short on a busy machine
                    "relay.delivery.tls.trust-store", trust.toString(),
                    "relay.delivery.mta-sts.test-only-https-port", String.valueOf(policies.port()),
                    "relay.delivery.smtp.port", String.valueOf(mx.port()));
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
        if (policies != null) {
            policies.close();
        }
        if (dns != null) {
            dns.close();
        }
    }
}
