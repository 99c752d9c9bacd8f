package dev.relay.delivery.tls;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The per-destination TLS policy table ({@code relay.delivery.tls.policy-map}), like Postfix's
 * {@code smtp_tls_policy_maps}: entries {@code domain=policy[;match=name1:name2]}, keyed by recipient domain.
 * {@code example.org} is that domain only; {@code .example.org} every domain under it (not example.org itself), as
 * Postfix with {@code parent_domain_matches_subdomains} unset. The exact entry wins, then the closest parent entry.
 * A malformed entry fails the start with a message naming it: a typo must not silently mean "opportunistic".
 */
public final class TlsPolicyMap {

    /** The table's policies; {@link #tag()} is the Postfix spelling, also the metric tag. */
    public enum Level {
        NONE, MAY, ENCRYPT, VERIFY, SECURE, DANE, DANE_ONLY;

        public String tag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Level parse(String text, String entry) {
            for (Level level : values()) {
                if (level.tag().equals(text.strip().toLowerCase(Locale.ROOT))) {
                    return level;
                }
            }
            throw new IllegalArgumentException("unknown TLS policy '" + text + "' in relay.delivery.tls.policy-map"
                    + " entry '" + entry + "' (none, may, encrypt, verify, secure, dane, dane-only)");
        }
    }

    /**
     * One entry.
     *
     * @param match names the certificate of a {@code verify}/{@code secure} destination must carry (a leading dot:
     *              any name under that domain); empty: the MX host name (a static route's host name)
     */
    public record Entry(String domain, Level level, List<String> match) {
        public Entry {
            match = List.copyOf(match);
        }
    }

    private static final TlsPolicyMap EMPTY = new TlsPolicyMap(Map.of());

    private final Map<String, Entry> entries;

    private TlsPolicyMap(Map<String, Entry> entries) {
        this.entries = Map.copyOf(entries);
    }

    public static TlsPolicyMap empty() {
        return EMPTY;
    }

    public static TlsPolicyMap parse(List<String> texts) {
        Map<String, Entry> entries = new HashMap<>();
        for (String text : texts) {
            if (text == null || text.isBlank()) {
                continue;
            }
            Entry entry = parseEntry(text.strip());
            if (entries.putIfAbsent(entry.domain(), entry) != null) {
                throw new IllegalArgumentException("relay.delivery.tls.policy-map names " + entry.domain()
                        + " twice");
            }
        }
        return new TlsPolicyMap(entries);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The entry for mail to {@code domain}: its own, else the closest {@code .parent} entry. */
    public Optional<Entry> lookup(String domain) {
        String d = normalize(domain);
        Entry exact = entries.get(d);
        if (exact != null) {
            return Optional.of(exact);
        }
        for (int dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) {
            Entry parent = entries.get(d.substring(dot));
            if (parent != null) {
                return Optional.of(parent);
            }
        }
        return Optional.empty();
    }

    private static Entry parseEntry(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("relay.delivery.tls.policy-map entry '" + text
                    + "' is not domain=policy[;match=name1:name2]");
        }
        String domain = normalize(text.substring(0, eq));
        if (domain.isEmpty() || domain.equals(".") || domain.contains(" ")) {
            throw new IllegalArgumentException("bad domain in relay.delivery.tls.policy-map entry '" + text + "'");
        }
        String[] parts = text.substring(eq + 1).split(";", -1);
        Level level = Level.parse(parts[0], text);
        List<String> match = new ArrayList<>();
        for (String raw : Arrays.asList(parts).subList(1, parts.length)) {
            String option = raw.strip();
            if (!option.startsWith("match=")) {
                throw new IllegalArgumentException("unknown option '" + option + "' in relay.delivery.tls.policy-map"
                        + " entry '" + text + "' (only match=name1:name2)");
            }
            for (String name : option.substring(6).split(":")) {
                if (!name.isBlank()) {
                    match.add(normalize(name));
                }
            }
        }
        if (!match.isEmpty() && level != Level.VERIFY && level != Level.SECURE) {
            throw new IllegalArgumentException("match= applies to verify and secure only, in"
                    + " relay.delivery.tls.policy-map entry '" + text + "'");
        }
        return new Entry(domain, level, match);
    }

    private static String normalize(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.endsWith(".") && n.length() > 1 ? n.substring(0, n.length() - 1) : n;
    }
}
