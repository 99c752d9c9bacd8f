package dev.relay.delivery.dsn;

import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BounceNotifierTest {

    private static final DsnComposer COMPOSER = new DsnComposer("out.relay.test");
    private static final dev.relay.common.envelope.Identity ALICE = new dev.relay.common.envelope.Identity("alice",
            "sub-1", "alice@relay.test", List.of(), List.of(), List.of());
    private static final RemoteHost MX = new RemoteHost("mx.example.org", "192.0.2.1", 25);
    private static final byte[] BODY = "Subject: x\r\n\r\nhi\r\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void shouldCoverOnlyThePermanentFailuresOfTheRecord() {
        Envelope original = envelope("alice@relay.test", null);
        BounceNotifier.Notice notice = BounceNotifier.notice(COMPOSER, original, BODY, List.of(
                new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                        new Diagnostic(Phase.RCPT, 550, "5.1.1", "550 5.1.1 no such user"), MX),
                new RecipientResult("b@example.org", DeliveryStatus.DELIVERED, reply(250, "250 ok"), MX),
                new RecipientResult("c@example.org", DeliveryStatus.TRANSIENT, reply(451, "451 later"), MX),
                new RecipientResult("d@example.org", DeliveryStatus.PERMANENT,
                        reply(550, "550 destination not allowed"), null)))
                .orElseThrow();
        assertThat(notice.dsn().recipients()).containsExactly("a@example.org", "d@example.org");
        assertThat(notice.envelope().route()).isEqualTo(Route.mx("relay.test"));
        assertThat(notice.envelope().mailFrom()).isEmpty();
        String text = new String(notice.dsn().bytes(), StandardCharsets.UTF_8);
        assertThat(text).contains("Remote-MTA: dns; mx.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user")
                .contains("Status: 5.0.0\r\nDiagnostic-Code: X-Relay; 550 destination not allowed");
    }

    @Test
    void shouldSendNothingForTheNullSenderNotifyNeverOrNoPermanentFailure() {
        RecipientResult failed = new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                reply(550, "550 no"), null);
        assertThat(BounceNotifier.notice(COMPOSER, envelope("", null), BODY, List.of(failed))).isEmpty();
        Dsn never = new Dsn(null, null, Map.of("a@example.org", new Dsn.Recipient(List.of("NEVER"), null)));
        assertThat(BounceNotifier.notice(COMPOSER, envelope("alice@relay.test", never), BODY, List.of(failed)))
                .isEmpty();
        assertThat(BounceNotifier.notice(COMPOSER, envelope("alice@relay.test", null), BODY, List.of(
                new RecipientResult("a@example.org", DeliveryStatus.TRANSIENT, reply(451, "451 later"), null))))
                .isEmpty();
    }

    @Test
    void shouldBounceOnlyToSendersThatAuthenticatedOrCameFromATrustedNetwork() {
        RecipientResult failed = new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                new Diagnostic(Phase.RCPT, 550, "5.1.1", "550 5.1.1 no"), null);
        Envelope anonymous = new Envelope(Envelope.VERSION, "M1", 1, "198.51.100.7", "c", "relay", false, null,
                "forged@victim.example", List.of("a@example.org"), false, "7BIT", BODY.length,
                Route.mx("example.org"), 0);
        assertThat(BounceNotifier.notice(COMPOSER, anonymous, BODY, List.of(failed))).isEmpty();
        assertThat(BounceNotifier.notice(COMPOSER, anonymous.withTrustedNetwork(true), BODY, List.of(failed)))
                .isPresent();
        assertThat(BounceNotifier.notice(COMPOSER, envelope("alice@relay.test", null), BODY, List.of(failed)))
                .isPresent();
    }

    @Test
    void shouldSendTheDsnAlongThePolicysReturnRouteSoALocalSenderIsNotLookedUpByMx() {
        RecipientResult failed = new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                new Diagnostic(Phase.RCPT, 550, "5.1.1", "550 5.1.1 no"), null);
        Envelope local = envelope("alice@relay.test", null).withReturnRoute(Route.local("relay.test"));

        assertThat(BounceNotifier.notice(COMPOSER, local, BODY, List.of(failed)).orElseThrow().envelope().route())
                .as("the sender's domain is local: its MX is this relay").isEqualTo(Route.local("relay.test"));
        // a return route for another domain than the sender's is not used (and an old policy sends none)
        Envelope other = envelope("alice@relay.test", null).withReturnRoute(Route.local("elsewhere.test"));
        assertThat(BounceNotifier.notice(COMPOSER, other, BODY, List.of(failed)).orElseThrow().envelope().route())
                .isEqualTo(Route.mx("relay.test"));
    }

    private static Diagnostic reply(int code, String text) {
        return new Diagnostic(Phase.RCPT, code, null, text);
    }

    /** Submitted by an authenticated identity: a sender Relay may send DSNs to. */
    private static Envelope envelope(String sender, Dsn dsn) {
        return new Envelope(Envelope.VERSION, "M1", 1, "192.0.2.1", "c", "submission", true, ALICE, sender,
                List.of("a@example.org"), false, "7BIT", BODY.length, Route.mx("example.org"), 0, dsn);
    }
}
