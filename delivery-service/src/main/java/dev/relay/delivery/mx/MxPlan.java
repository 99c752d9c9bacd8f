package dev.relay.delivery.mx;

import dev.relay.delivery.transport.OwnName;

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

    /**
     * The MX list leads back to ourselves: one of the most preferred hosts has our own name (or the domain without
     * MX records is our own name). Permanent, 5.4.6 "mail for … loops back to myself", as Postfix.
     *
     * @param host the MX host (or the domain) with our name
     */
    record LoopsBack(String host) implements MxPlan {
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
        return of(domain, records, random, new OwnName(null));
    }

    /**
     * As {@link #of(String, List, Random)}, knowing our own name: like Postfix, a host with our name and every
     * host not preferred over it are dropped (we are a backup MX: deliver to a better one); when nothing is left,
     * the mail would loop ({@link LoopsBack}).
     */
    static MxPlan of(String domain, List<Mx> records, Random random, OwnName self) {
        if (records.isEmpty()) {
            return self.is(domain) ? new LoopsBack(domain) : new Implicit(domain);
        }
        if (records.size() == 1 && records.get(0).host().isEmpty()) {
            return new NullMx();
        }
        Mx ours = records.stream().filter(mx -> self.is(mx.host()))
                .min(Comparator.comparingInt(Mx::preference)).orElse(null);
        if (ours != null) {
            List<Mx> better = records.stream().filter(mx -> mx.preference() < ours.preference()).toList();
            if (better.stream().allMatch(mx -> mx.host().isEmpty())) {
                return new LoopsBack(ours.host());
            }
            records = better;
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
