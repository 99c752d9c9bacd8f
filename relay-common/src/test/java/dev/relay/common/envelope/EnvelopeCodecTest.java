package dev.relay.common.envelope;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopeCodecTest {

    @Test
    void shouldRoundTripAnEnvelope() {
        Envelope e = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, "127.0.0.1", "client.example",
                "submission", true, new Identity("demo", "sub", "demo@example.test", List.of("smtp-relay"),
                List.of(), List.of()), "demo@example.test", List.of("a@b.example"), false, "8BITMIME", 42,
                Route.mx("b.example"), 0, new Dsn("HDRS", "env-1", java.util.Map.of("a@b.example",
                new Dsn.Recipient(List.of("SUCCESS", "FAILURE"), "rfc822;a@b.example"))));
        assertThat(EnvelopeCodec.decode(EnvelopeCodec.encode(e))).isEqualTo(e);
        assertThat(new String(EnvelopeCodec.encode(e), java.nio.charset.StandardCharsets.UTF_8))
                .contains("\"notify\":[\"SUCCESS\",\"FAILURE\"]");
    }

    @Test
    void shouldCarryAnApplicationsClientAndOrganisationsAndReadIdentitiesWithout() {
        Identity app = new Identity("service-account-demo-app", "sub", null, List.of("smtp-relay", "demo-app:sender"),
                List.of(), List.of("@apps.example.test"), "demo-app",
                java.util.Map.of("demo-team", List.of("Team.Example.Test")));
        Envelope e = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, "127.0.0.1", "client.example",
                "submission", true, app, "noreply@apps.example.test", List.of("a@b.example"), false, "7BIT", 42,
                null, 0);
        Envelope decoded = EnvelopeCodec.decode(EnvelopeCodec.encode(e));
        assertThat(decoded).isEqualTo(e);
        assertThat(decoded.identity().isApplication()).isTrue();
        assertThat(decoded.identity().inOrganization("DEMO-TEAM")).isTrue();
        assertThat(decoded.identity().organizations().get("demo-team")).containsExactly("team.example.test");

        Envelope person = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"identity\":{\"username\":"
                + "\"demo\",\"roles\":[\"smtp-relay\"]},\"mailFrom\":\"a@a.example\",\"recipients\":[\"b@b.example\"],"
                + "\"attempts\":0}").getBytes(StandardCharsets.UTF_8));
        assertThat(person.identity().isApplication()).isFalse();
        assertThat(person.identity().organizations()).isEmpty();
        assertThat(new String(EnvelopeCodec.encode(person), StandardCharsets.UTF_8))
                .doesNotContain("organizations").doesNotContain("client");
    }

    @Test
    void shouldRoundTripTheDeliveryHistoryAndReadEnvelopesWithoutIt() {
        Envelope e = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, null, null, "submission", true, null,
                "a@a.example", List.of("b@b.example"), false, "7BIT", 10, Route.mx("b.example"), 2, null,
                new DeliveryHistory(1700000001000L, 1700000061000L, java.util.Map.of("b@b.example",
                        new DeliveryHistory.LastReply("451 4.3.0 later", "mx.b.example[192.0.2.2]:25")), true));
        assertThat(EnvelopeCodec.decode(EnvelopeCodec.encode(e))).isEqualTo(e);

        Envelope old = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"mailFrom\":\"a@a.example\","
                + "\"recipients\":[\"b@b.example\"],\"attempts\":0}").getBytes(StandardCharsets.UTF_8));
        assertThat(old.history()).isNull();
        assertThat(new String(EnvelopeCodec.encode(old), StandardCharsets.UTF_8)).doesNotContain("history");
    }

    @Test
    void shouldCarryTheTrustedNetworkFlagAndReadOldEnvelopesAsUntrusted() {
        Envelope anonymous = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, "10.0.0.1", "c", "relay", false,
                null, "a@a.example", List.of("b@b.example"), false, "7BIT", 10, null, 0);
        assertThat(anonymous.vouchedSender()).isFalse();
        Envelope trusted = anonymous.withTrustedNetwork(true);
        Envelope decoded = EnvelopeCodec.decode(EnvelopeCodec.encode(trusted));
        assertThat(decoded.trustedNetwork()).isTrue();
        assertThat(decoded.vouchedSender()).isTrue();
        assertThat(decoded.forHop(Route.mx("b.example"), List.of("b@b.example")).trustedNetwork()).isTrue();
        assertThat(decoded.nextAttempt(List.of("b@b.example"), null).trustedNetwork()).isTrue();

        Envelope old = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"clientAddress\":\"10.0.0.1\","
                + "\"mailFrom\":\"a@a.example\",\"recipients\":[\"b@b.example\"],\"attempts\":0}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(old.trustedNetwork()).isFalse();
        assertThat(old.vouchedSender()).isFalse();
    }

    @Test
    void shouldCarryTheReturnRouteAndTheLocalRouteKindAndReadOldEnvelopesWithout() {
        Envelope routed = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, "10.0.0.1", "c", "submission", true,
                null, "alice@example.test", List.of("b@b.example"), false, "7BIT", 10, Route.mx("b.example"), 0)
                .withReturnRoute(Route.local("example.test"));
        Envelope decoded = EnvelopeCodec.decode(EnvelopeCodec.encode(routed));
        assertThat(decoded).isEqualTo(routed);
        assertThat(decoded.returnRoute()).isEqualTo(Route.local("example.test"));
        assertThat(decoded.forHop(Route.local("example.test"), List.of("x@example.test")).returnRoute())
                .isEqualTo(Route.local("example.test"));
        assertThat(decoded.nextAttempt(List.of("b@b.example"), null).returnRoute())
                .isEqualTo(Route.local("example.test"));
        assertThat(decoded.withTrustedNetwork(true).returnRoute()).isEqualTo(Route.local("example.test"));

        Envelope old = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"mailFrom\":\"a@a.example\","
                + "\"recipients\":[\"b@b.example\"],\"attempts\":0}").getBytes(StandardCharsets.UTF_8));
        assertThat(old.returnRoute()).isNull();
        assertThat(new String(EnvelopeCodec.encode(old), StandardCharsets.UTF_8)).doesNotContain("returnRoute");
    }

    @Test
    void shouldCarryTheDiscardRouteKindAndStillReadRecordsWrittenBeforeIt() {
        Envelope probe = new Envelope(Envelope.VERSION, "01PRB", 1700000000000L, "10.0.0.1", "c", "submission", true,
                null, "probe@probe.relay.invalid", List.of("p@" + Route.DISCARD_DOMAIN), false, "7BIT", 10,
                Route.discard(Route.DISCARD_DOMAIN), 0);
        byte[] json = EnvelopeCodec.encode(probe);
        assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"kind\":\"DISCARD\"");
        assertThat(EnvelopeCodec.decode(json)).isEqualTo(probe);

        Envelope old = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"mailFrom\":\"a@a.example\","
                + "\"recipients\":[\"b@b.example\"],\"attempts\":0,\"route\":{\"domain\":\"b.example\","
                + "\"kind\":\"MX\",\"host\":null,\"port\":0,\"tlsPolicy\":\"opportunistic\"}}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(old.route()).isEqualTo(Route.mx("b.example"));
    }

    @Test
    void shouldRefuseGarbageAndUnknownVersions() {
        assertThatThrownBy(() -> EnvelopeCodec.decode("not json".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EnvelopeCodec.decode("{\"version\":99,\"messageId\":\"x\"}"
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EnvelopeCodec.decode(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldCarryTheRoutesCredentialNameAndReadRoutesWithoutOne() {
        Route withAuth = new Route("b.example", Route.Kind.SMARTHOST, "smtp.provider.example", 587, "required",
                "provider");
        Envelope e = new Envelope(Envelope.VERSION, "01ABC", 1700000000000L, null, null, "submission", true, null,
                "a@a.example", List.of("b@b.example"), false, "7BIT", 10, withAuth, 0);
        assertThat(EnvelopeCodec.decode(EnvelopeCodec.encode(e)).route()).isEqualTo(withAuth);
        assertThat(withAuth.hopKey()).isEqualTo("smarthost:smtp.provider.example:587;auth=provider");

        Envelope old = EnvelopeCodec.decode(("{\"version\":1,\"messageId\":\"x\",\"mailFrom\":\"a@a.example\","
                + "\"recipients\":[\"b@b.example\"],\"attempts\":0,\"route\":{\"domain\":\"b.example\",\"kind\":"
                + "\"STATIC\",\"host\":\"gw.example\",\"port\":25,\"tlsPolicy\":\"required\"}}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(old.route().auth()).isNull();
        assertThat(old.route().hopKey()).isEqualTo("static:gw.example:25");
        assertThat(new String(EnvelopeCodec.encode(old), StandardCharsets.UTF_8)).doesNotContain("\"auth\"");
    }
}
