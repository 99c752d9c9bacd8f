package dev.relay.delivery.transport;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1); none after a HELO fallback. */
public record Capabilities(Map<String, String> keywords) {

    public Capabilities {
        keywords = Map.copyOf(keywords);
    }

    public static Capabilities none() {
        return new Capabilities(Map.of());
    }

    /** Reads the EHLO reply: the first line is the greeting, every other line is {@code KEYWORD [params]}. */
    public static Capabilities fromEhlo(SmtpReply reply) {
        Map<String, String> map = new HashMap<>();
        List<String> lines = reply.lines();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            String keyword = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            map.putIfAbsent(keyword, space < 0 ? "" : line.substring(space + 1).strip());
        }
        return new Capabilities(map);
    }

    public boolean has(String keyword) {
        return keywords.containsKey(keyword.toUpperCase(Locale.ROOT));
    }

    /**
     * The SASL mechanisms of the {@code AUTH} line (RFC 4954 §3), upper case; also those of the obsolete
     * {@code AUTH=LOGIN PLAIN} form some old servers still send. Empty when AUTH is not offered. The EHLO reply is
     * bounded by the reply parser, so this set is too.
     */
    public Set<String> authMechanisms() {
        Set<String> mechanisms = new LinkedHashSet<>();
        keywords.forEach((keyword, params) -> {
            String list = keyword.equals("AUTH") ? params
                    : keyword.startsWith("AUTH=") ? keyword.substring(5) + " " + params : null;
            if (list != null) {
                for (String m : list.strip().split("[\\s=]+")) {
                    if (!m.isEmpty()) {
                        mechanisms.add(m.toUpperCase(Locale.ROOT));
                    }
                }
            }
        });
        return mechanisms;
    }
}
