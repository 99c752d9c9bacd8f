package dev.relay.delivery.transport;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
}
