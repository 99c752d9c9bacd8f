package dev.relay.delivery.tls;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.HopDeliverer;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsCache;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.NextHopSpec;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.ConnectionReuse;
import dev.relay.delivery.transport.OwnName;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTimeouts;
import dev.relay.delivery.transport.TlsPolicy;
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DANE (RFC 7672) and the TLS policy table, one delivery attempt from envelope to SMTP: {@link HopDeliverer} with
 * the real route and MX resolution against the testkit's {@link DnsResponder} (TLSA records, the AD bit under a
 * signed zone) and a real STARTTLS server ({@link ScriptedSmtpServer}) whose certificates are made at run time. The
 * MX resolver trusts the AD bit ({@code relay.delivery.dns.dnssec=true}).
 */
class DaneDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(10));
    private static final String EHLO_TLS = "250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS";
    private static final String EHLO_PLAIN = "250-scripted.test\r\n250 8BITMIME";
    private static final String MISMATCH = "4.7.5 DANE: no TLSA record matches the certificate of mx.dane.test";

    private static Vertx vertx;
    private static TestPki.Issued ca;

    private DnsResponder dns;
    private SimpleMeterRegistry registry;
    private TransportMetrics metrics;
    private SmtpClient smtp;
    private final List<ScriptedSmtpServer> servers = new ArrayList<>();
    private final List<MxResolver> resolvers = new ArrayList<>();

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
        ca = TestPki.ca("Relay Test CA");
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void start() {
        dns = DnsResponder.start()
                .signed("dane.test")
                .mx("dane.test", 10, "mx.dane.test").a("mx.dane.test", "127.0.0.1")
                .mx("insecure.test", 10, "mx.insecure.test").a("mx.insecure.test", "127.0.0.1");
        registry = new SimpleMeterRegistry();
        metrics = new TransportMetrics(registry);
        smtp = new SmtpClient(vertx, "delivery.test", TIMEOUTS, ConnectionReuse.none(),
                new DestinationGate(vertx, DestinationLimits.unlimited()), metrics, TestPki.trusting(ca.certificate()));
    }

    @AfterEach
    void stop() throws Exception {
        for (ScriptedSmtpServer server : servers) {
            server.close();
        }
        for (MxResolver resolver : resolvers) {
            resolver.close();
        }
        smtp.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        dns.close();
    }

    // ---- DANE ----

    @Test
    void shouldDeliverWhenTheLeafMatchesADaneEeRecordWhateverItsNamesAndDates() throws Exception {
        TestPki.Issued leaf = TestPki.expired("unrelated.example"); // DANE-EE: names and expiry do not count
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, leaf.spkiSha256());

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(onlySession(server).tls()).isTrue();
        assertThat(count(TransportMetrics.DANE, "result", "verified")).isEqualTo(1);
        assertThat(registry.find(TransportMetrics.TLS_POLICY).tag("policy", "dane").tag("source", "dane").counter())
                .isNotNull();
    }

    @Test
    void shouldDeliverWhenAChainCertificateMatchesADaneTaRecordAndTheLeafNamesTheMxHost() throws Exception {
        TestPki.Issued leaf = TestPki.issue(TestPki.ca("Private DANE CA"), "mx.dane.test");
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 2, 0, 1, TestPki.sha256(leaf.chain()[1].getEncoded()));

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(onlySession(server).tls()).isTrue();
        assertThat(count(TransportMetrics.DANE, "result", "verified")).isEqualTo(1);
    }

    @Test
    void shouldDeferADaneTaChainWhoseLeafNamesAnotherHost() throws Exception {
        TestPki.Issued leaf = TestPki.issue(TestPki.ca("Private DANE CA"), "somewhere-else.test");
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 2, 0, 1, TestPki.sha256(leaf.chain()[1].getEncoded()));

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 " + MISMATCH);
        assertNoTransaction(server);
    }

    @Test
    void shouldDeferWith475AndSendNothingOverTheChannelWhenNoTlsaRecordMatches() throws Exception {
        TestPki.Issued leaf = TestPki.selfSigned("mx.dane.test");
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, TestPki.selfSigned("mx.dane.test").spkiSha256());

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.5");
        assertThat(r.detail()).startsWith("451 " + MISMATCH);
        ScriptedSmtpServer.Session session = assertNoTransaction(server);
        // not even EHLO went over the unauthenticated channel
        assertThat(session.commands()).containsExactly("EHLO delivery.test", "STARTTLS");
        assertThat(count(TransportMetrics.DANE, "result", "failed")).isEqualTo(1);
    }

    @Test
    void shouldDeliverOpportunisticallyWhenASecureMxHasNoTlsaRecords() throws Exception {
        ScriptedSmtpServer server = tlsServer(TestPki.selfSigned("whatever.test").serverContext());

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(onlySession(server).tls()).isTrue(); // any certificate: opportunistic TLS
        assertThat(count(TransportMetrics.DANE, "result", "no-tlsa")).isEqualTo(1);
        assertThat(dns.log()).contains("_" + server.port() + "._tcp.mx.dane.test/TLSA");
    }

    @Test
    void shouldNotApplyDaneToAnInsecureMxEvenWithTlsaRecords() throws Exception {
        ScriptedSmtpServer server = plainServer();
        dns.tlsa(tlsaName("mx.insecure.test", server), 3, 1, 1, new byte[32]);

        RecipientResult r = deliver("bob@insecure.test", server);

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(count(TransportMetrics.DANE, "result", "insecure")).isEqualTo(1);
        assertThat(dns.log()).noneMatch(q -> q.endsWith("/TLSA")); // not even asked (RFC 7672 §2.2)
    }

    @Test
    void shouldDeferWithoutConnectingWhenTheTlsaLookupOfASecureMxFails() throws Exception {
        ScriptedSmtpServer server = plainServer();
        dns.servfail(tlsaName("mx.dane.test", server));

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: TLSA lookup for mx.dane.test failed (SERVFAIL)");
        assertThat(server.connections()).isZero();
        assertThat(count(TransportMetrics.DANE, "result", "lookup-failed")).isEqualTo(1);
    }

    @Test
    void shouldDeferInsteadOfSendingPlainTextWhenAHostWithTlsaDoesNotOfferStartTls() throws Exception {
        ScriptedSmtpServer server = plainServer();
        dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, TestPki.selfSigned("x.test").spkiSha256());

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: mx.dane.test does not offer STARTTLS");
        assertNoTransaction(server);
    }

    @Test
    void shouldDemandTlsWithoutAuthenticationWhenEveryTlsaRecordIsUnusable() throws Exception {
        ScriptedSmtpServer plain = plainServer();
        dns.tlsa(tlsaName("mx.dane.test", plain), 1, 1, 1, new byte[32]); // PKIX-EE: unusable for SMTP
        dns.tlsa(tlsaName("mx.dane.test", plain), 3, 1, 9, new byte[32]); // unknown matching type

        RecipientResult refused = deliver("bob@dane.test", plain);

        assertThat(refused.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(refused.detail()).contains("STARTTLS not offered");
        assertNoTransaction(plain);

        ScriptedSmtpServer tls = tlsServer(TestPki.selfSigned("any.test").serverContext());
        dns.tlsa(tlsaName("mx.dane.test", tls), 0, 0, 1, new byte[32]); // PKIX-TA: unusable

        RecipientResult delivered = deliver("bob@dane.test", tls);

        assertThat(delivered.status()).as(delivered.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(onlySession(tls).tls()).isTrue();
    }

    // ---- hostile DNS ----

    @Test
    void shouldDeferWhenTheTlsaAnswerHasMoreRecordsThanItsBound() throws Exception {
        ScriptedSmtpServer server = plainServer();
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < MxResolver.MAX_TLSA_RECORDS + 8; i++) {
            byte[] digest = new byte[32];
            random.nextBytes(digest);
            dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, digest);
        }

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: TLSA lookup for mx.dane.test failed")
                .contains("over its bound");
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldDeferWhenTheTlsaAnswerHasTenThousandRecords() throws Exception {
        // 10,000 records do not fit in any DNS message: the server cannot even send them; nothing is kept, the
        // lookup times out and the host is not used
        ScriptedSmtpServer server = plainServer();
        byte[] digest = new byte[32];
        for (int i = 0; i < 10_000; i++) {
            digest[0] = (byte) i;
            digest[1] = (byte) (i >> 8);
            dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, digest);
        }

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: TLSA lookup for mx.dane.test failed");
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldDeferWhenTheTlsaAnswerHasMoreOctetsThanItsBoundEvenOverTcp() throws Exception {
        // too big for UDP: the server says "truncated", the resolver asks again over TCP and gets it whole
        dns.truncateUdpAbove(512);
        ScriptedSmtpServer server = plainServer();
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 3; i++) {
            byte[] certificate = new byte[3000];
            random.nextBytes(certificate);
            dns.tlsa(tlsaName("mx.dane.test", server), 3, 0, 0, certificate);
        }

        RecipientResult r = deliver("bob@dane.test", server);

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: TLSA lookup for mx.dane.test failed")
                .contains("over its bound");
        assertThat(dns.queries(tlsaName("mx.dane.test", server))).isGreaterThanOrEqualTo(2); // UDP, then TCP
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldCacheTlsaAnswersForTheirTtl() throws Exception {
        TestPki.Issued leaf = TestPki.selfSigned("mx.dane.test");
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, leaf.spkiSha256());
        MxResolver mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), metrics, null,
                new DnsCache(Duration.ofMinutes(5), Duration.ofMinutes(1), 100, DnsCache::monotonicMillis),
                new OwnName(null), true);
        resolvers.add(mx);
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(), Map.of(),
                Optional.empty(), server.port(), metrics, new DeliveryTlsPolicy(TlsPolicyMap.empty(), mx, metrics));

        RecipientResult first = deliver(routes, "bob@dane.test");
        RecipientResult second = deliver(routes, "carol@dane.test");

        assertThat(first.status()).as(first.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(second.status()).as(second.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(dns.queries(tlsaName("mx.dane.test", server))).isEqualTo(1);
        assertThat(count(TransportMetrics.DANE, "result", "verified")).isEqualTo(2);
    }

    // ---- the policy table ----

    @Test
    void shouldSendPlainTextWhenTheTableSaysNoneEvenIfStartTlsIsOffered() throws Exception {
        ScriptedSmtpServer server = tlsServer(TestPki.selfSigned("any.test").serverContext());

        RecipientResult r = deliver("bob@insecure.test", server, "insecure.test=none");

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(onlySession(server).tls()).isFalse();
        assertThat(onlySession(server).sent("STARTTLS")).isFalse();
        assertThat(registry.find(TransportMetrics.TLS_POLICY).tag("policy", "none").tag("source", "table")
                .counter()).isNotNull();
    }

    @Test
    void shouldDeferWhenTheTableSaysEncryptAndTheServerOffersNoStartTls() throws Exception {
        ScriptedSmtpServer server = plainServer();

        RecipientResult r = deliver("bob@insecure.test", server, "insecure.test=encrypt");

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).contains("STARTTLS not offered");
        assertNoTransaction(server);
    }

    @Test
    void shouldVerifyAgainstTheMatchNamesOfTheTable() throws Exception {
        TestPki.Issued leaf = TestPki.issue(ca, "smtp.provider.test");
        ScriptedSmtpServer server = tlsServer(leaf.serverContext());

        RecipientResult matching = deliver("bob@insecure.test", server, "insecure.test=verify;match=.provider.test");

        assertThat(matching.status()).as(matching.detail()).isEqualTo(DeliveryStatus.DELIVERED);

        RecipientResult other = deliver("bob@insecure.test", server,
                "insecure.test=verify;match=mx.insecure.test:.elsewhere.test");

        assertThat(other.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(other.detail()).startsWith("451 4.7.5 certificate of mx.insecure.test names [smtp.provider.test]");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.sessions().size() == server.connections());
        assertThat(server.sessions().stream().filter(s -> s.sent("MAIL")).count()).isEqualTo(1);
    }

    @Test
    void shouldVerifyAgainstTheMxHostNameWithoutMatchNames() throws Exception {
        ScriptedSmtpServer good = tlsServer(TestPki.issue(ca, "mx.insecure.test").serverContext());

        RecipientResult r = deliver("bob@insecure.test", good, "insecure.test=verify");

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);

        // the same chain of trust, another name: refused in the handshake
        ScriptedSmtpServer bad = tlsServer(TestPki.issue(ca, "not-the-mx.test").serverContext());

        RecipientResult refused = deliver("bob@insecure.test", bad, "insecure.test=secure");

        assertThat(refused.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertNoTransaction(bad);
    }

    @Test
    void shouldLetTheTableWinOverDane() throws Exception {
        ScriptedSmtpServer server = tlsServer(TestPki.selfSigned("mx.dane.test").serverContext());
        dns.tlsa(tlsaName("mx.dane.test", server), 3, 1, 1, new byte[32]); // would not match

        RecipientResult r = deliver("bob@dane.test", server, ".test=may");

        assertThat(r.status()).as(r.detail()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(dns.log()).noneMatch(q -> q.endsWith("/TLSA"));
    }

    @Test
    void shouldDeferDaneOnlyWithoutSecureTlsa() throws Exception {
        ScriptedSmtpServer server = tlsServer(TestPki.selfSigned("mx.insecure.test").serverContext());

        RecipientResult r = deliver("bob@insecure.test", server, "insecure.test=dane-only");

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).startsWith("451 4.7.5 DANE: TLS policy dane-only, but mx.insecure.test has no usable");
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldApplyTheTableToAStaticRouteOfTheDomain() throws Exception {
        ScriptedSmtpServer server = plainServer();
        MxResolver mx = resolver();
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(),
                Map.of("routed.test", new NextHopSpec("127.0.0.1", server.port(), TlsPolicy.OPPORTUNISTIC, true)),
                Optional.empty(), server.port(), metrics,
                new DeliveryTlsPolicy(TlsPolicyMap.parse(List.of("routed.test=encrypt")), mx, metrics));

        RecipientResult r = deliver(routes, "bob@routed.test");

        assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(r.detail()).contains("STARTTLS not offered");
        assertNoTransaction(server);
    }

    // ---- helpers ----

    private RecipientResult deliver(String recipient, ScriptedSmtpServer server, String... table) throws Exception {
        MxResolver mx = resolver();
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(), Map.of(),
                Optional.empty(), server.port(), metrics,
                new DeliveryTlsPolicy(TlsPolicyMap.parse(List.of(table)), mx, metrics));
        return deliver(routes, recipient);
    }

    private RecipientResult deliver(RouteResolver routes, String recipient) throws Exception {
        String domain = recipient.substring(recipient.indexOf('@') + 1);
        Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "alice@relay.test", List.of(recipient), false, "8BITMIME",
                10, Route.mx(domain), 0);
        byte[] data = "Subject: hi\r\n\r\nGrüße\r\n".getBytes(StandardCharsets.UTF_8);
        List<RecipientResult> results = new HopDeliverer(routes, smtp).deliver(envelope, data)
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    private MxResolver resolver() {
        MxResolver mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), metrics, null, DnsCache.disabled(), new OwnName(null), true);
        resolvers.add(mx);
        return mx;
    }

    private ScriptedSmtpServer tlsServer(SSLContext context) throws IOException {
        ScriptedSmtpServer server = new ScriptedSmtpServer().ehlo(EHLO_TLS).tls(context).start();
        servers.add(server);
        return server;
    }

    private ScriptedSmtpServer plainServer() throws IOException {
        ScriptedSmtpServer server = new ScriptedSmtpServer().ehlo(EHLO_PLAIN).start();
        servers.add(server);
        return server;
    }

    private static String tlsaName(String host, ScriptedSmtpServer server) {
        return "_" + server.port() + "._tcp." + host;
    }

    private static ScriptedSmtpServer.Session onlySession(ScriptedSmtpServer server) {
        await().atMost(Duration.ofSeconds(10)).until(() -> server.sessions().size() == server.connections());
        assertThat(server.sessions()).hasSize(1);
        return server.sessions().get(0);
    }

    /** The server saw a connection but no MAIL, RCPT or DATA; returns its (last) session. */
    private static ScriptedSmtpServer.Session assertNoTransaction(ScriptedSmtpServer server) {
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connections() > 0
                && server.sessions().size() == server.connections());
        for (ScriptedSmtpServer.Session session : server.sessions()) {
            assertThat(session.sent("MAIL")).as(session.transcriptText()).isFalse();
            assertThat(session.sent("RCPT")).isFalse();
            assertThat(session.sent("DATA")).isFalse();
        }
        return server.sessions().get(server.sessions().size() - 1);
    }

    private double count(String name, String tag, String value) {
        Counter counter = registry.find(name).tag(tag, value).counter();
        return counter == null ? 0 : counter.count();
    }
}
