package dev.relay.policy.dkim;

import dev.relay.common.address.HeaderFrom;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.rules.DkimRules;
import dev.relay.common.rules.RuleSet;
import dev.relay.policy.config.PolicyMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The one place outbound mail is DKIM-signed: after header hygiene, before the outbound records are built (the
 * policy's {@code route.Dispatcher}). First {@link #plan} — which rule of the deciding rule set applies to the
 * message's header {@code From:} and sender, and whether every key it names is loaded — then, once the message
 * is admitted, {@link #sign}. A rule that matches but cannot sign (key missing, unusable) means the message is
 * held and retried, never sent unsigned and never dropped.
 */
@ApplicationScoped
public class DkimStep {

    private static final Logger LOG = Logger.getLogger(DkimStep.class);
    /** The name under which a message waiting for its signing key is held (the {@code held} metric's tag). */
    public static final String HOLD_REASON = "dkim-key-unusable";

    private final DkimKeys keys;
    private final PolicyMetrics metrics;
    private final Clock clock;

    public DkimStep(DkimKeys keys, PolicyMetrics metrics, Clock clock) {
        this.keys = keys;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** What to do with one message. */
    public sealed interface Plan {
        /** Not signed: no rule applies (or nothing to sign with by design); {@code reason} null when none applies. */
        record Unsigned(String reason) implements Plan {
        }

        /** Signed with these specs, by the rule at {@code rule} ({@code dkim[0]}). */
        record Sign(String rule, List<DkimSigner.Spec> specs) implements Plan {
            /** {@code domain/selector} of each signature. */
            public List<String> names() {
                return specs.stream().map(s -> s.key().name()).toList();
            }
        }

        /** A rule applies but cannot sign now: hold the message and try again later. */
        record Unusable(String rule, String reason) implements Plan {
        }
    }

    /** The signed message and what signed it. */
    public record Signed(byte[] message, List<String> names) {
    }

    /**
     * Which rule signs this message, if any, and with which loaded keys.
     *
     * @param rules   the {@code dkim} rules of the rule set that decided the message
     * @param message the message bytes (its header From is read)
     */
    public Plan plan(List<RuleSet.DkimRule> rules, Envelope envelope, byte[] message) {
        if (rules.isEmpty() || !envelope.vouchedSender()) {
            return new Plan.Unsigned(null); // mail received as an MX is never signed: its From is not ours to vouch
        }
        HeaderFrom.Result from = HeaderFrom.of(message);
        String reason = !from.present() ? "no-from" : !from.valid() ? "unreadable-from"
                : from.addresses().size() != 1 ? "several-from" : null;
        if (reason != null) {
            metrics.dkimFailure(reason);
            return new Plan.Unsigned(reason);
        }
        String domain = from.addresses().get(0).domainLower();
        Optional<DkimRules.Applied> applied = DkimRules.match(rules, envelope.identity(), true, domain);
        if (applied.isEmpty()) {
            return new Plan.Unsigned(null);
        }
        RuleSet.DkimRule rule = applied.get().dkim();
        List<DkimSigner.Spec> specs = new ArrayList<>();
        for (String selector : rule.allSelectors()) {
            Optional<SigningKey> key = keys.key(rule.domain(), selector);
            if (key.isEmpty()) {
                metrics.dkimFailure("key-unusable");
                String why = "no usable key " + rule.domain().toLowerCase(Locale.ROOT) + "/"
                        + selector.toLowerCase(Locale.ROOT) + " (loaded: " + keys.loaded() + ")";
                LOG.warnf("message %s not signed, held: %s names %s", envelope.messageId(), applied.get().rule(), why);
                return new Plan.Unusable(applied.get().rule(), why);
            }
            specs.add(new DkimSigner.Spec(key.get(), Canonicalization.parse(rule.canonicalization()),
                    rule.headers() == null ? DkimSigner.DEFAULT_HEADERS
                            : rule.headers().stream().map(h -> h.toLowerCase(Locale.ROOT)).toList(),
                    rule.expire() == null ? null : DkimRules.duration(rule.expire())));
        }
        return new Plan.Sign(applied.get().rule(), List.copyOf(specs));
    }

    /**
     * Signs the outbound bytes as planned: the DKIM-Signature fields are prepended, nothing else changes.
     *
     * @return empty when a key refused to sign (counted, logged; the caller holds the message)
     */
    public Optional<Signed> sign(Plan.Sign plan, Envelope envelope, byte[] outbound) {
        try {
            byte[] signed = DkimSigner.sign(outbound, plan.specs(), clock.instant().getEpochSecond());
            plan.specs().forEach(s -> metrics.dkimSigned(s.key().domain(), s.key().algorithm().tag()));
            return Optional.of(new Signed(signed, plan.names()));
        } catch (GeneralSecurityException | RuntimeException e) {
            metrics.dkimFailure("sign-error");
            LOG.warnf("message %s not signed, held: %s could not sign with %s: %s", envelope.messageId(), plan.rule(),
                    plan.names(), e.getClass().getSimpleName());
            return Optional.empty();
        }
    }
}
