package dev.relay.delivery.mx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/** What an MX answer means for delivery (RFC 5321 §5.1, RFC 7505). Pure: no DNS here. */
public sealed interface MxPlan {

    /** The domain publishes a null MX: it accepts no mail. Permanent, 5.1.10 (RFC 7505 §4.2). */
    record NullMx() implements MxPlan {
    }

    /** No MX records: the domain itself is the implicit MX, with preference 0 (RFC 5321 §5.1). */
    record Implicit(String domain) implements MxPlan {
    }

    /** Exchange hosts, most preferred first. */
    record Exchangers(List<String> hosts) implements MxPlan {
        public Exchangers {
            hosts = List.copyOf(hosts);
        }
    }

    /**
     * Orders the records by preference; records of equal preference are shuffled so that load spreads over
     * them, as RFC 5321 §5.1 asks.
     */
    static MxPlan of(String domain, List<Mx> records, Random random) {
        if (records.isEmpty()) {
            return new Implicit(domain);
        }
        if (records.size() == 1 && records.get(0).host().isEmpty()) {
            return new NullMx();
        }
        List<Mx> shuffled = new ArrayList<>(records);
        Collections.shuffle(shuffled, random);
        shuffled.sort(Comparator.comparingInt(Mx::preference));
        List<String> hosts = new ArrayList<>();
        for (Mx mx : shuffled) {
            if (!mx.host().isEmpty() && !hosts.contains(mx.host())) {
                hosts.add(mx.host());
            }
        }
        return hosts.isEmpty() ? new NullMx() : new Exchangers(hosts);
    }
}
