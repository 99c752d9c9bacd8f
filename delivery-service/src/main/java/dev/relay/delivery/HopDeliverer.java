package dev.relay.delivery;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.delivery.mx.Resolution;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.OutboundMessage;
import dev.relay.delivery.suppression.SuppressionCheck;
import dev.relay.delivery.suppression.SuppressionPolicy;
import dev.relay.delivery.transport.SmtpClient;
import io.vertx.core.Future;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One delivery attempt of one outbound record: resolve the next hop per recipient domain, group recipients that
 * go to the same addresses, and run one SMTP transaction per group. Never fails: every recipient ends with a
 * result (delivered, transient or permanent), which the messaging layer makes durable.
 *
 * <p>Before anything else, a recipient on the suppression list (docs/adr/0015) gets its permanent
 * {@code 550 5.1.1 ... suppressed ...} result without a connection, on every route (MX, static, smarthost, the
 * mailbox route alike).
 *
 * <p>A record on the built-in DISCARD route (the synthetic probe's mail, docs/adr/0022) is acknowledged as
 * delivered ({@code 250 2.0.0}) without any network I/O: no DNS, no connection, nothing left behind.
 */
@Singleton
public class HopDeliverer {

    private final RouteResolver routes;
    private final SmtpClient smtp;
    private final SuppressionCheck suppressions;

    /** Without a suppression list (tests of routing and transport). */
    public HopDeliverer(RouteResolver routes, SmtpClient smtp) {
        this(routes, smtp, SuppressionCheck.NONE);
    }

    @Inject
    public HopDeliverer(RouteResolver routes, SmtpClient smtp, SuppressionCheck suppressions) {
        this.routes = routes;
        this.smtp = smtp;
        this.suppressions = suppressions;
    }

    public Future<List<RecipientResult>> deliver(Envelope envelope, byte[] data) {
        List<RecipientResult> results = new ArrayList<>();
        Map<String, List<String>> byDomain = new LinkedHashMap<>();
        for (String rcpt : envelope.recipients()) {
            if (!(AddressParser.parse(rcpt, true) instanceof ParsedAddress.Valid valid)) {
                results.add(new RecipientResult(rcpt, DeliveryStatus.PERMANENT,
                        Diagnostic.ours(Phase.ROUTE, 553, "5.1.3", "bad recipient address syntax"), null));
                continue;
            }
            Optional<SuppressionEntry> suppressed = suppressions.check(rcpt);
            if (suppressed.isPresent()) {
                results.add(SuppressionPolicy.suppressed(rcpt, suppressed.get()));
                continue;
            }
            byDomain.computeIfAbsent(valid.address().domainLower(), d -> new ArrayList<>()).add(rcpt);
        }
        OutboundMessage message = new OutboundMessage(envelope.messageId(), envelope.mailFrom(), List.of(), data,
                isEightBit(envelope.body()), envelope.smtputf8(), envelope.dsn());
        if (envelope.route() != null && envelope.route().kind() == Route.Kind.DISCARD) {
            Diagnostic discarded = Diagnostic.ours(Phase.ROUTE, 250, "2.0.0", "discarded (built-in discard route)");
            byDomain.values().forEach(rcpts -> rcpts.forEach(r -> results.add(
                    new RecipientResult(r, DeliveryStatus.DELIVERED, discarded, null))));
            return Future.succeededFuture(results);
        }
        List<Future<List<RecipientResult>>> hops = new ArrayList<>();
        for (Map.Entry<String, List<String>> domain : byDomain.entrySet()) {
            hops.add(routes.resolve(domain.getKey(), envelope.route())
                    .compose(resolution -> deliver(resolution, message.withRecipients(domain.getValue()))));
        }
        return Future.join(new ArrayList<>(hops)).transform(done -> {
            for (int i = 0; i < hops.size(); i++) {
                Future<List<RecipientResult>> hop = hops.get(i);
                if (hop.succeeded()) {
                    results.addAll(hop.result());
                } else {
                    // A bug or an unexpected I/O error: unsure, so transient (docs/architecture.md, "Principles of the code").
                    Diagnostic reason = Diagnostic.ours(Phase.ROUTE, 451, "4.3.0", String.valueOf(hop.cause()));
                    List<String> rcpts = new ArrayList<>(byDomain.values()).get(i);
                    rcpts.forEach(r -> results.add(new RecipientResult(r, DeliveryStatus.TRANSIENT, reason, null)));
                }
            }
            return Future.succeededFuture(results);
        });
    }

    private Future<List<RecipientResult>> deliver(Resolution resolution, OutboundMessage message) {
        if (resolution instanceof Resolution.Unroutable unroutable) {
            return Future.succeededFuture(message.recipients().stream()
                    .map(r -> new RecipientResult(r, unroutable.status(), unroutable.reason(), null)
                            .withTlsDecision(unroutable.tls())).toList());
        }
        Resolution.Targets found = (Resolution.Targets) resolution;
        return smtp.deliver(found.targets(), message).map(found.review()::review);
    }

    private static boolean isEightBit(String body) {
        return body != null && (body.equalsIgnoreCase("8BITMIME") || body.equalsIgnoreCase("BINARYMIME"));
    }
}
