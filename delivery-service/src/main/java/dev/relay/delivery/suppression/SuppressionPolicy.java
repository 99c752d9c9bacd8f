package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which results put an address on the suppression list, and what a suppressed recipient is told. Pure.
 *
 * <p>An entry is due only for a permanent (5yz) answer that a remote server gave to that recipient (at RCPT or
 * to the final dot: a peer is known and the phase is one of the recipient's own), whose enhanced status is one
 * of {@code codes}. Our own decisions (bad syntax, null MX, a loop, SMTPUTF8 not offered) never add one: they
 * say nothing about the mailbox. Codes must be of class 5 and subject 1 (addressing: RFC 3463 §3.2): a 5.7.x
 * (policy, e.g. a spam or authentication refusal) or 5.2.x (mailbox full, message too big) is about this message
 * or a passing state and must not stop later mail, so they are refused in configuration.
 */
public final class SuppressionPolicy {

    /** The default codes: unknown mailbox (5.1.1), unknown system (5.1.2), moved (5.1.6), null MX (5.1.10). */
    public static final List<String> DEFAULT_CODES = List.of("5.1.1", "5.1.2", "5.1.6", "5.1.10");
    private static final Pattern ADDRESSING = Pattern.compile("5\\.1\\.\\d{1,3}");

    private final Set<String> codes;
    private final Duration ttl;

    /**
     * @param codes enhanced status codes that suppress, each 5.1.x
     * @param ttl   how long an entry holds; zero switches suppression off (nothing added, nothing checked)
     * @throws IllegalArgumentException for a code that is not 5.1.x or a negative ttl
     */
    public SuppressionPolicy(List<String> codes, Duration ttl) {
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("relay.delivery.suppression.ttl must not be negative, was " + ttl);
        }
        for (String code : codes) {
            if (!ADDRESSING.matcher(code.strip()).matches()) {
                throw new IllegalArgumentException("relay.delivery.suppression.codes: " + code + " is not a 5.1.x "
                        + "(addressing) status; 5.7.x and 5.2.x describe the message or a passing state, not the "
                        + "address, and never suppress");
            }
        }
        this.codes = Set.copyOf(codes.stream().map(c -> c.strip().toLowerCase(Locale.ROOT)).toList());
        this.ttl = ttl;
    }

    public boolean enabled() {
        return !ttl.isZero();
    }

    public Duration ttl() {
        return ttl;
    }

    /** The codes, sorted, for the start-up log line. */
    @Override
    public String toString() {
        return String.join(",", codes.stream().sorted().toList());
    }

    /** The entries these results call for (one per address), none when suppression is off. */
    public List<SuppressionEntry> entriesFor(List<RecipientResult> results, Instant now) {
        List<SuppressionEntry> entries = new ArrayList<>();
        if (!enabled()) {
            return entries;
        }
        for (RecipientResult r : results) {
            if (suppresses(r)) {
                try {
                    entries.add(new SuppressionEntry(r.recipient(), r.detail(), now, now.plus(ttl),
                            SuppressionEntry.Source.BOUNCE));
                } catch (IllegalArgumentException e) {
                    // an address we cannot key (too long): nothing to suppress it by
                }
            }
        }
        return entries;
    }

    /** A hard bounce from a remote server, of one of the configured codes. */
    boolean suppresses(RecipientResult r) {
        Diagnostic d = r.diagnostic();
        return r.status() == DeliveryStatus.PERMANENT && r.peer() != null
                && (d.phase() == Phase.RCPT || d.phase() == Phase.MESSAGE)
                && d.enhancedStatus() != null && codes.contains(d.enhancedStatus().toLowerCase(Locale.ROOT));
    }

    /**
     * What a suppressed recipient gets instead of an attempt: permanent, decided here (no peer), with the entry's
     * time and reason: {@code 550 5.1.1 <addr>: suppressed after a hard bounce at <since> (<reason>)}.
     */
    public static RecipientResult suppressed(String recipient, SuppressionEntry entry) {
        String why = entry.source() == SuppressionEntry.Source.ADMIN ? "suppressed by an administrator at "
                : "suppressed after a hard bounce at ";
        return new RecipientResult(recipient, DeliveryStatus.PERMANENT, Diagnostic.ours(Phase.SUPPRESSED, 550,
                "5.1.1", "<" + recipient + ">: " + why + entry.since() + " (" + entry.reason() + ")"), null);
    }
}
