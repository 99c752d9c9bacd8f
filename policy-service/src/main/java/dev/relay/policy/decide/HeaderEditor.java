package dev.relay.policy.decide;

import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RuleSet;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Header hygiene on the outbound bytes: removes every instance of the named header fields (with their folded
 * continuation lines) and prepends fixed fields; every other byte, the body included, stays as it was.
 *
 * <p>Only the header section is touched: fields up to the first empty line (RFC 5322 §2.1). A line that is
 * neither a field nor a continuation ends the editing there, so nothing that might be body is ever removed.
 * Added fields go on top, above every existing field: a DKIM verifier picks same-named fields from the bottom
 * up (RFC 6376 §5.4.2), so a prepended field does not break an existing signature unless the signer
 * "oversigned" that name. Stripping a field the signature covers does break it: the README says so.
 */
public final class HeaderEditor {

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private HeaderEditor() {
    }

    /**
     * What to do to one message.
     *
     * @param strip lower-case names of the fields to remove
     * @param add   fields to prepend, in this order
     * @param rules the header rules this edit came from ({@code headers[0]}…), for logs
     */
    public record Edit(Set<String> strip, List<RuleSet.HeaderField> add, List<String> rules) {
        public static final Edit NONE = new Edit(Set.of(), List.of(), List.of());

        public boolean isEmpty() {
            return strip.isEmpty() && add.isEmpty();
        }

        /** The union of the rules that apply, in rule-set order. */
        public static Edit of(List<RelayRules.AppliedHeaderRule> applied) {
            if (applied.isEmpty()) {
                return NONE;
            }
            Set<String> strip = new LinkedHashSet<>();
            List<RuleSet.HeaderField> add = new ArrayList<>();
            List<String> rules = new ArrayList<>();
            for (RelayRules.AppliedHeaderRule rule : applied) {
                rule.headers().strip().forEach(name -> strip.add(name.toLowerCase(Locale.ROOT)));
                add.addAll(rule.headers().add());
                rules.add(rule.rule());
            }
            return new Edit(Set.copyOf(strip), List.copyOf(add), List.copyOf(rules));
        }
    }

    /** The edited message and how many fields were removed and added. */
    public record Result(byte[] message, int stripped, int added) {
    }

    public static Result apply(Edit edit, byte[] message) {
        if (edit.isEmpty()) {
            return new Result(message, 0, 0);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 128);
        for (RuleSet.HeaderField field : edit.add()) {
            out.writeBytes((field.name() + ": " + field.value() + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        int stripped = 0;
        int pos = 0;
        while (pos < message.length) {
            int end = fieldEnd(message, pos);
            String name = end < 0 ? null : fieldName(message, pos);
            if (name == null) {
                break; // the empty line, or not a header field: the rest stays untouched
            }
            if (edit.strip().contains(name)) {
                stripped++;
            } else {
                out.write(message, pos, end - pos);
            }
            pos = end;
        }
        out.write(message, pos, message.length - pos);
        return new Result(out.toByteArray(), stripped, edit.add().size());
    }

    /**
     * The end (exclusive, after its CRLF) of the field starting at {@code start}, including its continuation
     * lines; -1 when the line is empty, starts with white space, or is not terminated by CRLF.
     */
    private static int fieldEnd(byte[] m, int start) {
        if (start >= m.length || m[start] == CR || m[start] == LF || m[start] == ' ' || m[start] == '\t') {
            return -1;
        }
        int pos = start;
        while (true) {
            int eol = lineEnd(m, pos);
            if (eol < 0) {
                return -1;
            }
            pos = eol;
            if (pos >= m.length || (m[pos] != ' ' && m[pos] != '\t')) {
                return pos;
            }
        }
    }

    /** The index after the CRLF ending the line at {@code pos}, or -1 without one. */
    private static int lineEnd(byte[] m, int pos) {
        for (int i = pos; i + 1 < m.length; i++) {
            if (m[i] == CR && m[i + 1] == LF) {
                return i + 2;
            }
        }
        return -1;
    }

    /**
     * The lower-case name of the field at {@code start}: the printable characters before the colon (white space
     * before the colon, RFC 5322 §4.5.3 obsolete syntax, tolerated); null when the line is no header field.
     */
    private static String fieldName(byte[] m, int start) {
        int i = start;
        while (i < m.length && m[i] > ' ' && m[i] < 0x7f && m[i] != ':') {
            i++;
        }
        int nameEnd = i;
        while (i < m.length && (m[i] == ' ' || m[i] == '\t')) {
            i++;
        }
        if (nameEnd == start || i >= m.length || m[i] != ':') {
            return null;
        }
        return new String(m, start, nameEnd - start, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
    }
}
