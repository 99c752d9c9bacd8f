package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;
import dev.relay.delivery.transport.SmtpReply;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SuppressionPolicyTest {

    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    private static final RemoteHost MX = new RemoteHost("mx.example.org", "192.0.2.1", 25);
    private static final SuppressionPolicy POLICY = new SuppressionPolicy(SuppressionPolicy.DEFAULT_CODES,
            Duration.ofDays(30));

    @Test
    void shouldSuppressAfterAnAddressingHardBounceFromARemoteServer() {
        List<SuppressionEntry> entries = POLICY.entriesFor(List.of(
                remote("Gone@Example.org", "550 5.1.1 <gone@example.org>: no such user", Phase.RCPT),
                remote("moved@example.org", "551 5.1.6 moved", Phase.MESSAGE)), NOW);
        assertThat(entries).extracting(SuppressionEntry::address)
                .containsExactly("gone@example.org", "moved@example.org");
        SuppressionEntry gone = entries.get(0);
        assertThat(gone.reason()).isEqualTo("550 5.1.1 <gone@example.org>: no such user");
        assertThat(gone.since()).isEqualTo(NOW);
        assertThat(gone.until()).isEqualTo(NOW.plus(Duration.ofDays(30)));
        assertThat(gone.source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
    }

    @Test
    void shouldNotSuppressPolicyRefusalsPassingStatesOrOurOwnDecisions() {
        assertThat(POLICY.entriesFor(List.of(
                remote("spam@example.org", "550 5.7.1 message refused as spam", Phase.RCPT),
                remote("full@example.org", "552 5.2.2 mailbox full", Phase.RCPT),
                remote("later@example.org", "450 4.1.1 try later", Phase.RCPT),
                remote("sender@example.org", "550 5.1.1 sender unknown", Phase.MAIL),
                new RecipientResult("syntax@example.org", DeliveryStatus.PERMANENT,
                        Diagnostic.ours(Phase.ROUTE, 550, "5.1.10", "null MX"), null),
                SuppressionPolicy.suppressed("again@example.org", new SuppressionEntry("again@example.org",
                        "550 5.1.1 x", NOW, NOW.plusSeconds(5), SuppressionEntry.Source.BOUNCE))), NOW)).isEmpty();
    }

    @Test
    void shouldBeOffWithAZeroTtlAndRefuseCodesThatAreNotAboutTheAddress() {
        SuppressionPolicy off = new SuppressionPolicy(SuppressionPolicy.DEFAULT_CODES, Duration.ZERO);
        assertThat(off.enabled()).isFalse();
        assertThat(off.entriesFor(List.of(remote("gone@example.org", "550 5.1.1 unknown", Phase.RCPT)), NOW))
                .isEmpty();
        for (String code : new String[]{"5.7.1", "5.2.2", "4.1.1", "5.1", "x"}) {
            assertThatThrownBy(() -> new SuppressionPolicy(List.of("5.1.1", code), Duration.ofDays(1)))
                    .as(code).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new SuppressionPolicy(List.of("5.1.1"), Duration.ofDays(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldTellASuppressedRecipientWhenAndWhy() {
        RecipientResult r = SuppressionPolicy.suppressed("gone@example.org", new SuppressionEntry("gone@example.org",
                "550 5.1.1 no such user", NOW, NOW.plusSeconds(60), SuppressionEntry.Source.BOUNCE));
        assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
        assertThat(r.peer()).isNull();
        assertThat(r.diagnostic().phase()).isEqualTo(Phase.SUPPRESSED);
        assertThat(r.detail()).isEqualTo("550 5.1.1 <gone@example.org>: suppressed after a hard bounce at "
                + "2026-12-03T12:00:00Z (550 5.1.1 no such user)");
    }

    private static RecipientResult remote(String rcpt, String reply, Phase phase) {
        return new RecipientResult(rcpt, DeliveryStatus.of(Integer.parseInt(reply.substring(0, 3))),
                new SmtpReply(Integer.parseInt(reply.substring(0, 3)), List.of(reply.substring(4))).diagnostic(phase),
                MX);
    }
}
