package dev.relay.delivery.retry;

import dev.relay.common.dsn.RecipientStatus;
import dev.relay.common.envelope.DeliveryHistory;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;
import dev.relay.delivery.transport.SmtpReply;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AttemptPlanTest {

    private static final Instant RECEIVED = Instant.parse("2026-01-01T00:00:00Z");
    private static final RemoteHost MX = new RemoteHost("mx.example.org", "192.0.2.1", 25);
    private static final RetryPolicy POLICY = new RetryPolicy(List.of(Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofHours(8)), Duration.ofDays(5), Optional.empty(), "relay.retry.v1");

    @Test
    void shouldWaitOnTheTierOfEachStepAndStayOnTheLastOne() {
        assertThat(POLICY.tiers()).containsExactly("relay.retry.v1.1m", "relay.retry.v1.5m", "relay.retry.v1.8h");
        assertThat(POLICY.tierAfter(1)).isEqualTo("relay.retry.v1.1m");
        assertThat(POLICY.tierAfter(2)).isEqualTo("relay.retry.v1.5m");
        assertThat(POLICY.tierAfter(3)).isEqualTo("relay.retry.v1.8h");
        assertThat(POLICY.tierAfter(40)).isEqualTo("relay.retry.v1.8h");
        assertThat(POLICY.tierLabel("relay.retry.v1.5m")).isEqualTo("5m");
    }

    @Test
    void shouldCarryOnlyTheDeferredRecipientsWithTheirLastReply() {
        Envelope e = envelope(0, null);
        Instant now = RECEIVED.plusSeconds(3);
        AttemptPlan plan = AttemptPlan.decide(e, List.of(
                result("a@example.org", DeliveryStatus.DELIVERED, "250 ok"),
                result("b@example.org", DeliveryStatus.TRANSIENT, "451 4.3.0 later"),
                result("c@example.org", DeliveryStatus.PERMANENT, "550 5.1.1 unknown")), POLICY, now);

        AttemptPlan.Retry retry = plan.retry().orElseThrow();
        assertThat(retry.topic()).isEqualTo("relay.retry.v1.1m");
        assertThat(retry.dueAt()).isEqualTo(now.plusSeconds(60));
        assertThat(retry.envelope().recipients()).containsExactly("b@example.org");
        assertThat(retry.envelope().attempts()).isEqualTo(1);
        assertThat(retry.envelope().history().firstAttemptAt()).isEqualTo(now.toEpochMilli());
        assertThat(retry.envelope().history().lastReply("b@example.org"))
                .isEqualTo(new DeliveryHistory.LastReply("451 4.3.0 later", MX.describe()));
        assertThat(plan.dsn()).extracting(RecipientStatus::recipient).containsExactly("c@example.org");

        // the second failure keeps the first attempt time and moves to the next tier
        Instant later = retry.dueAt().plusMillis(5);
        AttemptPlan second = AttemptPlan.decide(retry.envelope(), List.of(
                result("b@example.org", DeliveryStatus.TRANSIENT, "421 4.4.2 timeout")), POLICY, later);
        AttemptPlan.Retry again = second.retry().orElseThrow();
        assertThat(again.topic()).isEqualTo("relay.retry.v1.5m");
        assertThat(again.envelope().attempts()).isEqualTo(2);
        assertThat(again.envelope().history().firstAttemptAt()).isEqualTo(now.toEpochMilli());
        assertThat(again.envelope().history().lastAttemptAt()).isEqualTo(later.toEpochMilli());
        assertThat(second.dsn()).isEmpty();
    }

    @Test
    void shouldExpireAtTheFirstFailureAfterMaxAgeWithTheLastReply() {
        Instant now = RECEIVED.plus(Duration.ofDays(5));
        AttemptPlan plan = AttemptPlan.decide(envelope(30, null), List.of(
                result("b@example.org", DeliveryStatus.TRANSIENT, "452 4.2.2 mailbox full")), POLICY, now);
        assertThat(plan.retry()).isEmpty();
        assertThat(plan.deferred()).isEmpty();
        assertThat(plan.expired()).extracting(RecipientResult::recipient).containsExactly("b@example.org");
        RecipientStatus status = plan.dsn().get(0);
        assertThat(status.action()).isEqualTo(RecipientStatus.Action.FAILED);
        assertThat(status.status()).isEqualTo("4.2.2");
        assertThat(status.diagnostic()).isEqualTo("452 4.2.2 mailbox full");
        assertThat(status.remoteMta()).isEqualTo("mx.example.org");

        // a millisecond earlier it is still retried
        assertThat(AttemptPlan.decide(envelope(30, null), List.of(result("b@example.org", DeliveryStatus.TRANSIENT,
                "452 4.2.2 mailbox full")), POLICY, now.minusMillis(1)).retry()).isPresent();
    }

    @Test
    void shouldSendNoDelayNoticeUnlessEnabledAndOnlyOncePerRecord() {
        List<RecipientResult> later = List.of(result("b@example.org", DeliveryStatus.TRANSIENT, "451 4.3.0 later"));
        Instant now = RECEIVED.plus(Duration.ofHours(5));
        assertThat(AttemptPlan.decide(envelope(3, null), later, POLICY, now).dsn()).isEmpty();

        RetryPolicy notices = new RetryPolicy(List.of(Duration.ofMinutes(1)), Duration.ofDays(5),
                Optional.of(Duration.ofHours(4)), "relay.retry.v1");
        assertThat(AttemptPlan.decide(envelope(3, null), later, notices, RECEIVED.plus(Duration.ofHours(3))).dsn())
                .isEmpty();
        AttemptPlan noticed = AttemptPlan.decide(envelope(3, null), later, notices, now);
        assertThat(noticed.dsn()).extracting(RecipientStatus::action).containsExactly(RecipientStatus.Action.DELAYED);
        assertThat(noticed.willRetryUntil()).isEqualTo(RECEIVED.plus(Duration.ofDays(5)));
        Envelope next = noticed.retry().orElseThrow().envelope();
        assertThat(next.history().delayNotified()).isTrue();
        AttemptPlan afterwards = AttemptPlan.decide(next, later, notices, now.plus(Duration.ofHours(1)));
        assertThat(afterwards.dsn()).isEmpty();
        assertThat(afterwards.retry().orElseThrow().envelope().history().delayNotified()).isTrue();
    }

    @Test
    void shouldRefuseAScheduleOrAgeThatCannotWork() {
        assertThatThrownBy(() -> new RetryPolicy(List.of(), Duration.ofDays(1), Optional.empty(), "r"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(List.of(Duration.ZERO), Duration.ofDays(1), Optional.empty(), "r"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(List.of(Duration.ofMinutes(1)), Duration.ZERO, Optional.empty(),
                "r")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(List.of(Duration.ofMinutes(1)), Duration.ofDays(1),
                Optional.of(Duration.ofSeconds(-1)), "r")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(List.of(Duration.ofMinutes(1)), Duration.ofDays(1),
                Optional.empty(), "bad prefix/")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldReportSuccessOnlyWhereNotifyAsksAndTheServerCannotPassItOn() {
        dev.relay.common.envelope.Dsn dsn = new dev.relay.common.envelope.Dsn(null, null, Map.of(
                "a@example.org", new dev.relay.common.envelope.Dsn.Recipient(List.of("SUCCESS"), null),
                "b@example.org", new dev.relay.common.envelope.Dsn.Recipient(List.of("SUCCESS", "FAILURE"), null),
                "c@example.org", new dev.relay.common.envelope.Dsn.Recipient(List.of("NEVER"), null)));
        Envelope mx = new Envelope(Envelope.VERSION, "M1", RECEIVED.toEpochMilli(), "192.0.2.1", "c", "submission",
                true, null, "alice@relay.test", List.of("a@example.org", "b@example.org", "c@example.org",
                "d@example.org"), false, "7BIT", 10, Route.mx("example.org"), 0, dsn, null);
        RecipientResult a = result("a@example.org", DeliveryStatus.DELIVERED, "250 2.0.0 queued");
        RecipientResult bPassedOn = new RecipientResult("b@example.org", DeliveryStatus.DELIVERED,
                a.diagnostic(), MX, null, null, true);
        AttemptPlan plan = AttemptPlan.decide(mx, List.of(a, bPassedOn,
                result("c@example.org", DeliveryStatus.DELIVERED, "250 2.0.0 queued"),
                result("d@example.org", DeliveryStatus.DELIVERED, "250 2.0.0 queued")), POLICY, RECEIVED);
        // a: NOTIFY=SUCCESS, the server offered no DSN: relayed; b: the server took NOTIFY on: its duty;
        // c: NEVER; d: no NOTIFY (FAILURE,DELAY)
        assertThat(plan.dsn()).hasSize(1);
        RecipientStatus relayed = plan.dsn().get(0);
        assertThat(relayed.recipient()).isEqualTo("a@example.org");
        assertThat(relayed.action()).isEqualTo(RecipientStatus.Action.RELAYED);
        assertThat(relayed.status()).isEqualTo("2.0.0");
        assertThat(relayed.remoteMta()).isEqualTo("mx.example.org");
        assertThat(relayed.diagnostic()).isEqualTo("250 2.0.0 queued");

        Envelope local = new Envelope(Envelope.VERSION, "M2", RECEIVED.toEpochMilli(), "192.0.2.1", "c",
                "submission", true, null, "alice@relay.test", List.of("a@example.org"), false, "7BIT", 10,
                Route.local("example.org"), 0, dsn, null);
        assertThat(AttemptPlan.decide(local, List.of(a), POLICY, RECEIVED).dsn())
                .extracting(RecipientStatus::action).containsExactly(RecipientStatus.Action.DELIVERED);
    }

    private static RecipientResult result(String rcpt, DeliveryStatus status, String reply) {
        return new RecipientResult(rcpt, status, new SmtpReply(Integer.parseInt(reply.substring(0, 3)),
                List.of(reply.substring(4))).diagnostic(Phase.RCPT), MX);
    }

    private static Envelope envelope(int attempts, DeliveryHistory history) {
        return new Envelope(Envelope.VERSION, "M1", RECEIVED.toEpochMilli(), "192.0.2.1", "c", "submission", true,
                null, "alice@relay.test", List.of("a@example.org", "b@example.org", "c@example.org"), false, "7BIT",
                10, Route.mx("example.org"), attempts, null, history);
    }

}
