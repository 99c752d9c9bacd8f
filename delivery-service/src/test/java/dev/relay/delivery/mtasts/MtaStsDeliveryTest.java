package dev.relay.delivery.mtasts;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.HopDeliverer;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.tls.DeliveryTlsPolicy;
import dev.relay.delivery.tls.TlsPolicyMap;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.MtaStsCheck;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.ConnectionReuse;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTimeouts;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.testkit.DnsResponder;
import dev.relay.testkit.HttpsPolicyServer;
import dev.relay.testkit.TestCa;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MTA-STS from discovery to SMTP: the real {@link RouteResolver}, {@link HopDeliverer} and {@link SmtpClient}
 * against the testkit's {@link DnsResponder} (TXT, MX, A), an {@link HttpsPolicyServer} whose certificate a
 * run-time {@link TestCa} issued, and SMTP servers with STARTTLS on 127.0.0.1. The delivery trusts the CA through
 * {@link WebPkiTrust} (as {@code relay.delivery.tls.trust-store} does). Each test builds its own MTA-STS stack, so
 * each starts with an empty policy cache.
 */
class MtaStsDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));
    private static final String STARTTLS_EHLO = "250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS";

    private static Vertx vertx;
    private static TestCa ca;
    private static WebPkiTrust trust;
    private static DnsResponder dns;
    private static MxResolver mx;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private SimpleMeterRegistry registry;
    private MtaSts sts;

    @BeforeAll
    static void start(@TempDir Path dir) {
        vertx = Vertx.vertx();
        ca = TestCa.create();
        trust = WebPkiTrust.of(Optional.of(ca.writeCertificatePem(dir.resolve("ca.pem"))));
        dns = DnsResponder.start();
        mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())), Duration.ofSeconds(5),
                new TransportMetrics(new SimpleMeterRegistry()), null);
    }

    @AfterAll
    static void stop() throws Exception {
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void closeServers() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    @Test
    void enforceDeliversToAMatchingMxWhoseCertificateVerifies() throws Exception {
        HttpsPolicyServer policies = policyServer("pass.test").policy("pass.test", "enforce", "mx.pass.test");
        publish("pass.test", "id1", "mx.pass.test");
        ScriptedSmtpServer server = smtp(ca.serverContext("mx.pass.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@pass.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("enforce", "pass"));
        });
        assertThat(server.sessions()).singleElement().satisfies(s -> assertThat(s.tls()).isTrue());
        assertThat(attempts("enforce", "pass")).isEqualTo(1);
    }

    @Test
    void enforceDefersWithoutConnectingWhenNoMxHostMatches() throws Exception {
        HttpsPolicyServer policies = policyServer("nomatch.test")
                .policy("nomatch.test", "enforce", "*.mail.nomatch.test");
        publish("nomatch.test", "id1", "mx.nomatch.test"); // not one label below mail.nomatch.test
        ScriptedSmtpServer server = smtp(ca.serverContext("mx.nomatch.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@nomatch.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.7.5 MTA-STS policy of nomatch.test: no MX host matches");
        });
        assertThat(server.connections()).isZero();
        assertThat(attempts("enforce", "fail")).isEqualTo(1);
    }

    @Test
    void enforceDefersWhenTheCertificateDoesNotNameTheMxHost() throws Exception {
        HttpsPolicyServer policies = policyServer("badname.test").policy("badname.test", "enforce", "mx.badname.test");
        publish("badname.test", "id1", "mx.badname.test");
        ScriptedSmtpServer server = smtp(ca.serverContext("somebody-else.test")); // trusted CA, wrong name

        List<RecipientResult> results = deliver(policies, server, "bob@badname.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.7.5 MTA-STS policy of badname.test: ")
                    .contains("TLS handshake failed");
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("enforce", "fail"));
        });
        assertThat(server.sessions()).allSatisfy(s -> assertThat(s.sent("MAIL")).isFalse());
        assertThat(attempts("enforce", "fail")).isEqualTo(1);
    }

    @Test
    void enforceDefersWhenTheCertificateIsFromAnUntrustedCa() throws Exception {
        HttpsPolicyServer policies = policyServer("untrusted.test")
                .policy("untrusted.test", "enforce", "mx.untrusted.test");
        publish("untrusted.test", "id1", "mx.untrusted.test");
        ScriptedSmtpServer server = smtp(TestCa.create().serverContext("mx.untrusted.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@untrusted.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.7.5 MTA-STS policy of untrusted.test: ");
        });
        assertThat(server.sessions()).allSatisfy(s -> assertThat(s.sent("MAIL")).isFalse());
    }

    @Test
    void testingDeliversDespiteABadCertificateAndRecordsTheFailure() throws Exception {
        HttpsPolicyServer policies = policyServer("testing.test").policy("testing.test", "testing", "mx.testing.test");
        publish("testing.test", "id1", "mx.testing.test");
        ScriptedSmtpServer server = smtp(TestCa.create().serverContext("mx.testing.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@testing.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("testing", "fail"));
        });
        assertThat(attempts("testing", "fail")).isEqualTo(1);
        assertThat(attempts("testing", "pass")).isZero();
    }

    @Test
    void testingRecordsAPassWhenEnforceWouldHavePassed() throws Exception {
        HttpsPolicyServer policies = policyServer("testok.test").policy("testok.test", "testing", "*.testok.test");
        publish("testok.test", "id1", "mx.testok.test");
        ScriptedSmtpServer server = smtp(ca.serverContext("mx.testok.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@testok.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("testing", "pass"));
        });
    }

    @Test
    void aCachedPolicyStaysInForceWhileThePolicyServerIsDown() throws Exception {
        HttpsPolicyServer policies = policyServer("cached.test").policy("cached.test", "enforce", "mx.cached.test");
        publish("cached.test", "id1", "mx.cached.test");
        ScriptedSmtpServer server = smtp(ca.serverContext("mx.cached.test", "other.cached.test"));
        assertThat(deliver(policies, server, "bob@cached.test")).singleElement()
                .satisfies(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED));

        policies.close(); // down: connections are refused from now on
        publish("cached.test", "id2", "other.cached.test"); // a new id (a fetch is due) and an MX outside the policy
        List<RecipientResult> results = deliver(policies, server, "bob@cached.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.7.5 MTA-STS policy of cached.test: no MX host matches");
        });
        assertThat(server.connections()).isEqualTo(1); // only the first delivery connected
        assertThat(fetches("failed")).isEqualTo(1);
    }

    @Test
    void withoutACachedPolicyAnUnreachablePolicyServerMeansOpportunisticDelivery() throws Exception {
        publish("nocache.test", "id1", "mx.nocache.test");
        ScriptedSmtpServer server = smtp(TestCa.create().serverContext("mx.nocache.test")); // would fail enforce
        sts = stack(closedPort());

        List<RecipientResult> results = deliverWith(server, "bob@nocache.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("none", "fetch-failed"));
        });
        assertThat(fetches("failed")).isEqualTo(1);
        assertThat(attempts("none", "fetch-failed")).isEqualTo(1);
    }

    @Test
    void aMalformedPolicyIsNoPolicy() throws Exception {
        HttpsPolicyServer policies = policyServer("malformed.test")
                .policy("malformed.test", "version: STSv1\r\nmode: enforce\r\nmx: elsewhere.test\r\n"); // no max_age
        publish("malformed.test", "id1", "mx.malformed.test");
        ScriptedSmtpServer server = smtp(TestCa.create().serverContext("mx.malformed.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@malformed.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isEqualTo(new MtaStsCheck("none", "fetch-failed"));
        });
        assertThat(policies.requests("malformed.test")).isEqualTo(1);
    }

    @Test
    void twoStsRecordsMeanNoPolicyAndNoFetch() throws Exception {
        HttpsPolicyServer policies = policyServer("twice.test").policy("twice.test", "enforce", "elsewhere.test");
        publish("twice.test", "id1", "mx.twice.test");
        dns.txt("_mta-sts.twice.test", "v=STSv1; id=id2");
        ScriptedSmtpServer server = smtp(TestCa.create().serverContext("mx.twice.test"));

        List<RecipientResult> results = deliver(policies, server, "bob@twice.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.mtaSts()).isNull();
        });
        assertThat(policies.requests("twice.test")).isZero();
    }

    @Test
    void anOversizedPolicyIsCutOffAndIsNoPolicy() throws Exception {
        HttpsPolicyServer policies = policyServer("huge.test").huge("huge.test", 10L * 1024 * 1024);
        publish("huge.test", "id1", "mx.huge.test");
        sts = stack(policies.port());

        PolicyFetcher.Fetched fetched = await(new PolicyFetcher(vertx, mx, new DestinationGuard(true), trust,
                Duration.ofSeconds(10), policies.port()).fetch("huge.test"));
        MtaSts.InForce inForce = await(sts.lookup("huge.test"));

        assertThat(fetched).isInstanceOfSatisfying(PolicyFetcher.Fetched.Failed.class,
                f -> assertThat(f.why()).contains("larger than 65536"));
        assertThat(inForce.policy()).isNull();
        assertThat(inForce.fetchFailed()).isTrue();
    }

    @Test
    void redirectsWrongTypesAndSlowServersGiveNoPolicy() throws Exception {
        HttpsPolicyServer policies = policyServer("moved.test", "html.test", "slow.test")
                .redirect("moved.test", "https://elsewhere.test/.well-known/mta-sts.txt")
                .answer("html.test", 200, "text/html", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 60\n")
                .hang("slow.test", Duration.ofSeconds(10));
        PolicyFetcher fetcher = new PolicyFetcher(vertx, mx, new DestinationGuard(true), trust,
                Duration.ofSeconds(1), policies.port());
        for (String d : List.of("moved.test", "html.test", "slow.test")) {
            dns.a("mta-sts." + d, "127.0.0.1");
        }

        assertThat(await(fetcher.fetch("moved.test"))).isInstanceOfSatisfying(PolicyFetcher.Fetched.Failed.class,
                f -> assertThat(f.why()).contains("HTTP 302"));
        assertThat(await(fetcher.fetch("html.test"))).isInstanceOfSatisfying(PolicyFetcher.Fetched.Failed.class,
                f -> assertThat(f.why()).contains("not text/plain"));
        assertThat(await(fetcher.fetch("slow.test"))).isInstanceOfSatisfying(PolicyFetcher.Fetched.Failed.class,
                f -> assertThat(f.why()).contains("within 1s"));
    }

    @Test
    void aPolicyHostOnAPrivateAddressIsRefusedByTheGuard() throws Exception {
        HttpsPolicyServer policies = policyServer("private.test").policy("private.test", "enforce", "mx.private.test");
        publish("private.test", "id1", "mx.private.test");
        PolicyFetcher strict = new PolicyFetcher(vertx, mx, DestinationGuard.strict(), trust, Duration.ofSeconds(5),
                policies.port());

        assertThat(await(strict.fetch("private.test"))).isInstanceOfSatisfying(PolicyFetcher.Fetched.Failed.class,
                f -> assertThat(f.why()).contains("refused"));
        assertThat(policies.requests("private.test")).isZero();
    }

    @Test
    void thePolicyIsFetchedAgainOnlyWhenTheIdChanges() throws Exception {
        HttpsPolicyServer policies = policyServer("ids.test").policy("ids.test", "enforce", "mx.ids.test");
        publish("ids.test", "id1", "mx.ids.test");
        sts = stack(policies.port());

        await(sts.lookup("ids.test"));
        await(sts.lookup("ids.test"));
        assertThat(policies.requests("ids.test")).isEqualTo(1);

        publish("ids.test", "id2", "mx.ids.test");
        policies.policy("ids.test", "testing", "mx.ids.test");
        MtaSts.InForce changed = await(sts.lookup("ids.test"));

        assertThat(policies.requests("ids.test")).isEqualTo(2);
        assertThat(changed.policy().mode()).isEqualTo(StsPolicy.Mode.TESTING);
    }

    @Test
    void concurrentLookupsShareOneFetch() throws Exception {
        HttpsPolicyServer policies = policyServer("shared.test").policy("shared.test", "enforce", "mx.shared.test");
        publish("shared.test", "id1", "mx.shared.test");
        sts = stack(policies.port());

        List<Future<MtaSts.InForce>> lookups = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lookups.add(sts.lookup("shared.test"));
        }
        for (Future<MtaSts.InForce> lookup : lookups) {
            assertThat(await(lookup).policy().mode()).isEqualTo(StsPolicy.Mode.ENFORCE);
        }

        assertThat(policies.requests("shared.test")).isEqualTo(1);
    }

    // ---- helpers ----

    /** {@code _mta-sts.<domain>} with {@code id}, the policy host and one MX host, all on 127.0.0.1. */
    private static void publish(String domain, String id, String mxHost) {
        dns.remove("_mta-sts." + domain, DnsResponder.TYPE_TXT).remove(domain, DnsResponder.TYPE_MX)
                .txt("_mta-sts." + domain, "v=STSv1; id=" + id)
                .mx(domain, 10, mxHost).a(mxHost, "127.0.0.1")
                .remove("mta-sts." + domain, DnsResponder.TYPE_A).a("mta-sts." + domain, "127.0.0.1");
    }

    private HttpsPolicyServer policyServer(String... domains) {
        HttpsPolicyServer server = HttpsPolicyServer.start(ca, domains);
        closeAfter.add(server);
        return server;
    }

    private ScriptedSmtpServer smtp(SSLContext tls) throws IOException {
        ScriptedSmtpServer server = new ScriptedSmtpServer().ehlo(STARTTLS_EHLO).tls(tls)
                .start(InetAddress.getByName("127.0.0.1"), 0);
        closeAfter.add(server);
        return server;
    }

    private MtaSts stack(int httpsPort) {
        registry = new SimpleMeterRegistry();
        return new MtaSts(mx, new PolicyFetcher(vertx, mx, new DestinationGuard(true), trust, Duration.ofSeconds(5),
                httpsPort), new PolicyCache(100, System::currentTimeMillis), trust, new MtaStsMetrics(registry));
    }

    private List<RecipientResult> deliver(HttpsPolicyServer policies, ScriptedSmtpServer server, String rcpt)
            throws Exception {
        if (sts == null) {
            sts = stack(policies.port());
        }
        return deliverWith(server, rcpt);
    }

    private List<RecipientResult> deliverWith(ScriptedSmtpServer server, String rcpt) throws Exception {
        SmtpClient smtp = new SmtpClient(vertx, "delivery.test", TIMEOUTS, ConnectionReuse.none(),
                new DestinationGate(vertx, DestinationLimits.unlimited()),
                new TransportMetrics(new SimpleMeterRegistry()), trust.trustManager());
        try {
            TransportMetrics metrics = new TransportMetrics(new SimpleMeterRegistry());
            RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(),
                    Map.of(), Optional.empty(), server.port(), metrics,
                    new DeliveryTlsPolicy(TlsPolicyMap.empty(), mx, metrics, sts));
            String domain = rcpt.substring(rcpt.indexOf('@') + 1);
            Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                    "client.test", "submission", true, null, "alice@relay.test", List.of(rcpt), false, "8BITMIME",
                    10, Route.mx(domain), 0);
            byte[] data = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.UTF_8);
            return await(new HopDeliverer(routes, smtp).deliver(envelope, data));
        } finally {
            await(smtp.close());
        }
    }

    private double attempts(String mode, String result) {
        var counter = registry.find("relay.delivery.mta.sts").tag("mode", mode).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private double fetches(String result) {
        var counter = registry.find("relay.delivery.mta.sts.policy.fetches").tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
