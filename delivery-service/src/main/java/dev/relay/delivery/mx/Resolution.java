package dev.relay.delivery.mx;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.TlsDecision;
import dev.relay.delivery.transport.SmtpTarget;

import java.util.List;
import java.util.Set;

/** Where the recipients of one domain go: addresses to try in order, or why there are none. */
public sealed interface Resolution {

    /**
     * @param targets     the addresses, most preferred first
     * @param secureHosts host names of targets whose MX RRset and address records the resolver validated with
     *                    DNSSEC (only with {@code relay.delivery.dns.dnssec=true}): the hosts DANE may apply to
     *                    (RFC 7672 §2.2)
     * @param review      what a TLS policy of the destination (MTA-STS) says about the results of the attempt: it
     *                    may replace their reason and annotates them; {@link ResultReview#NONE} when no policy applies
     */
    record Targets(List<SmtpTarget> targets, Set<String> secureHosts, ResultReview review) implements Resolution {
        public Targets {
            targets = List.copyOf(targets);
            secureHosts = Set.copyOf(secureHosts);
            review = review == null ? ResultReview.NONE : review;
        }

        public Targets(List<SmtpTarget> targets, Set<String> secureHosts) {
            this(targets, secureHosts, ResultReview.NONE);
        }

        public Targets(List<SmtpTarget> targets, ResultReview review) {
            this(targets, Set.of(), review);
        }

        public Targets(List<SmtpTarget> targets) {
            this(targets, Set.of(), ResultReview.NONE);
        }
    }

    /**
     * @param status TRANSIENT (DNS trouble: try again later) or PERMANENT (no such domain, null MX, refused
     *               private address)
     * @param reason with its code and enhanced status, e.g. {@code 556 5.1.10 domain accepts no mail (null MX)}
     * @param tls    the TLS decision that left no host (DANE lookup failed, MTA-STS enforce matched none), null
     *               when no TLS decision was made
     */
    record Unroutable(DeliveryStatus status, Diagnostic reason, TlsDecision tls) implements Resolution {

        public Unroutable(DeliveryStatus status, Diagnostic reason) {
            this(status, reason, null);
        }

        /** The same refusal, made by the TLS decision {@code decision}. */
        public Unroutable withTls(TlsDecision decision) {
            return new Unroutable(status, reason, decision);
        }
    }

    /** Why there is no address: transient for a 4yz code, permanent for a 5yz one. */
    static Resolution failure(int code, String enhancedStatus, String reason) {
        return new Unroutable(DeliveryStatus.of(code), Diagnostic.ours(Phase.ROUTE, code, enhancedStatus, reason));
    }
}
