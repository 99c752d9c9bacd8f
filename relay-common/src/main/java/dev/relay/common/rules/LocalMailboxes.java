package dev.relay.common.rules;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One compiled {@link RuleSet.LocalRecipients} entry: which local parts exist in a local domain, looked up in
 * constant time per RCPT (the list may be long). Local parts compare case-insensitively and without their
 * quotes ({@code "Alice"} is {@code alice}), as mailbox stores do.
 */
record LocalMailboxes(String path, boolean catchAll, String delimiter, Map<String, String> rules) {

    static LocalMailboxes of(RuleSet.LocalRecipients entry, int index) {
        String path = "localRecipients[" + index + "]";
        Map<String, String> rules = new HashMap<>();
        for (int m = 0; m < entry.mailboxes().size(); m++) {
            rules.putIfAbsent(normalise(entry.mailboxes().get(m)), path + ".mailboxes[" + m + "]");
        }
        String delimiter = entry.delimiter() == null || entry.delimiter().isEmpty() ? null : entry.delimiter();
        return new LocalMailboxes(path, entry.acceptsAll(), delimiter, Map.copyOf(rules));
    }

    /** The rule that accepts this (normalised) local part, if any. */
    Optional<String> find(String local) {
        if (catchAll) {
            return Optional.of(path + ".catchAll");
        }
        String rule = rules.get(local);
        if (rule == null && delimiter != null) {
            int cut = local.indexOf(delimiter);
            if (cut > 0) {
                rule = rules.get(local.substring(0, cut));
            }
        }
        return Optional.ofNullable(rule);
    }

    /** Lower case, and for a quoted local part its content without quotes and escapes. */
    static String normalise(String localPart) {
        String local = localPart;
        if (local.length() >= 2 && local.startsWith("\"") && local.endsWith("\"")) {
            StringBuilder out = new StringBuilder(local.length());
            for (int i = 1; i < local.length() - 1; i++) {
                char c = local.charAt(i);
                if (c == '\\' && i + 1 < local.length() - 1) {
                    c = local.charAt(++i);
                }
                out.append(c);
            }
            local = out.toString();
        }
        return local.toLowerCase(Locale.ROOT);
    }
}
