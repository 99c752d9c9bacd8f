package dev.relay.delivery.tlsrpt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The results of one window of the partitions this instance owns, per policy domain and policy: summary counts and
 * failure details (result type, MX host, receiving IP) with their session counts. Bounded: at most
 * {@code maxDomains} domains, {@value #MAX_POLICIES} policies per domain and {@code maxFailureDetails} distinct
 * failure details per policy; a result beyond a bound still counts where it can (a new detail's session still
 * counts in its policy's summary) and is reported to {@link Cut}. Not thread-safe: one aggregator thread owns it.
 */
public final class WindowAggregate {

    static final int MAX_POLICIES = 10;

    /** Told when a bound cut something: {@code what} is {@code domain}, {@code policy} or {@code failure-detail}. */
    @FunctionalInterface
    public interface Cut {
        void cut(String what);
    }

    /** One policy of a domain as reported: type and strings (the MX host patterns come with the strings). */
    public record Policy(String type, List<String> strings) {
    }

    /** One line of failure-details. */
    public record Failure(String resultType, String mx, String ip) {
    }

    /** What a policy saw in the window. */
    public static final class Counts {
        private long successes;
        private long failures;
        private final Map<Failure, Long> details = new LinkedHashMap<>();

        public long successes() {
            return successes;
        }

        public long failures() {
            return failures;
        }

        public Map<Failure, Long> details() {
            return details;
        }
    }

    private final long start;
    private final int maxDomains;
    private final int maxFailureDetails;
    private final Cut cut;
    private final Map<String, Map<Policy, Counts>> domains = new LinkedHashMap<>();

    public WindowAggregate(long start, int maxDomains, int maxFailureDetails, Cut cut) {
        this.start = start;
        this.maxDomains = maxDomains;
        this.maxFailureDetails = maxFailureDetails;
        this.cut = cut;
    }

    public long start() {
        return start;
    }

    public void add(SessionResult r) {
        Map<Policy, Counts> policies = domains.get(r.domain());
        if (policies == null) {
            if (domains.size() >= maxDomains) {
                cut.cut("domain");
                return;
            }
            policies = new LinkedHashMap<>();
            domains.put(r.domain(), policies);
        }
        Policy policy = new Policy(r.type(), r.strings());
        Counts counts = policies.get(policy);
        if (counts == null) {
            if (policies.size() >= MAX_POLICIES) {
                cut.cut("policy");
                return;
            }
            counts = new Counts();
            policies.put(policy, counts);
        }
        if (r.success()) {
            counts.successes++;
            return;
        }
        counts.failures++;
        Failure failure = new Failure(r.result(), r.mx(), r.ip());
        if (counts.details.containsKey(failure)) {
            counts.details.merge(failure, 1L, Long::sum);
        } else if (counts.details.size() < maxFailureDetails) {
            counts.details.put(failure, 1L);
        } else {
            cut.cut("failure-detail");
        }
    }

    public Set<String> domains() {
        return domains.keySet();
    }

    /** The policies of {@code domain} with their counts, in the order first seen. */
    public Map<Policy, Counts> policies(String domain) {
        return domains.getOrDefault(domain, Map.of());
    }

    /** Forgets a domain (its report was sent, or another instance's marker says so). */
    public void remove(String domain) {
        domains.remove(domain);
    }

    public boolean isEmpty() {
        return domains.isEmpty();
    }

    /** The domains in order, as a copy to iterate while removing. */
    public List<String> domainList() {
        return new ArrayList<>(domains.keySet());
    }
}
