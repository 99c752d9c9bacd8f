package dev.relay.delivery.outcome;

import dev.relay.common.dsn.RecipientStatus;
import dev.relay.delivery.transport.SmtpReply;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DSN fields come from the carried reply fields, not from the text: they must be what the text-based
 * {@link RecipientStatus} factories (and so the DSNs of before) give for the same reply, for every shape.
 */
class DsnReportTest {

    private static final RemoteHost MX = new RemoteHost("mx.example.org", "192.0.2.1", 25);

    /** Replies as the transport reads them: code and the lines after it. */
    private static final List<SmtpReply> REPLIES = List.of(
            new SmtpReply(550, List.of("5.1.1 no such user")),
            new SmtpReply(550, List.of("5.2.2 mailbox full", "5.2.2 really")),
            new SmtpReply(550, List.of("4.2.2 odd class")),
            new SmtpReply(550, List.of("user unknown")),
            new SmtpReply(451, List.of("4.7.1 greylisted")),
            new SmtpReply(452, List.of("5.2.2 odd class")),
            new SmtpReply(421, List.of("")),
            new SmtpReply(451, List.of("later")),
            new SmtpReply(554, List.of(" 5.7.1  spaced")));

    @Test
    void shouldReportWhatTheReplyTextWouldHaveGiven() {
        for (SmtpReply reply : REPLIES) {
            RecipientResult r = new RecipientResult("a@example.org", DeliveryStatus.of(reply.code()),
                    reply.diagnostic(Phase.RCPT), MX);
            assertThat(DsnReport.failed(r)).as(reply.text())
                    .isEqualTo(RecipientStatus.failed("a@example.org", "mx.example.org", reply.text()));
            assertThat(DsnReport.expired(r)).as(reply.text())
                    .isEqualTo(RecipientStatus.expired("a@example.org", "mx.example.org", reply.text()));
            assertThat(DsnReport.delayed(r)).as(reply.text())
                    .isEqualTo(RecipientStatus.delayed("a@example.org", "mx.example.org", reply.text()));
        }
    }

    @Test
    void shouldReportOurOwnReasonsWithTheirOwnCodes() {
        RecipientResult ours = new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                Diagnostic.ours(Phase.ROUTE, 553, "5.1.3", "bad recipient address syntax"), null);
        assertThat(DsnReport.failed(ours)).isEqualTo(new RecipientStatus("a@example.org",
                RecipientStatus.Action.FAILED, "5.1.3", null, "X-Relay", "553 5.1.3 bad recipient address syntax"));
        RecipientResult held = new RecipientResult("a@example.org", DeliveryStatus.TRANSIENT,
                Diagnostic.ours(Phase.CONNECT, 451, "4.4.5", "busy"), MX);
        assertThat(DsnReport.expired(held).status()).isEqualTo("4.4.5");
        assertThat(DsnReport.delayed(held).remoteMta()).isEqualTo("mx.example.org");
    }

    @Test
    void shouldNameTheRemoteHostForRemoteMta() {
        assertThat(MX.mta()).isEqualTo("mx.example.org");
        assertThat(MX.describe()).isEqualTo("mx.example.org[192.0.2.1]:25");
        assertThat(new RemoteHost("", "192.0.2.1", 25).mta()).isEqualTo("192.0.2.1");
    }
}
