package dev.relay.delivery.mtasts;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code _mta-sts.<domain>} TXT record (RFC 8461 §3.1): {@code v=STSv1; id=<1-32 alphanumerics>} plus
 * extensions, which are ignored. Records that do not begin with {@code v=STSv1} are not ours and are discarded;
 * when the rest is not exactly one record, or that record does not parse, the domain has no available policy
 * (which does not by itself drop a cached one: RFC 8461 §5.1, {@link MtaSts}).
 */
public sealed interface StsRecord {

    /** Exactly one valid record. */
    record Valid(String id) implements StsRecord {
    }

    /** No record starting with {@code v=STSv1}: the domain does not use MTA-STS. */
    record Absent() implements StsRecord {
    }

    /** Several records, or a malformed one: no policy is available (RFC 8461 §3.1). */
    record Invalid(String why) implements StsRecord {
    }

    Pattern ID = Pattern.compile("[A-Za-z0-9]{1,32}");
    /** sts-ext-name (RFC 8461 §3.1): 1 to 32 of ALPHA, DIGIT, "_", "-", "." */
    Pattern EXT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}");
    /** sts-ext-value: visible ASCII except ";" and "=" (the id aside). */
    Pattern EXT_VALUE = Pattern.compile("[\\x21-\\x3A\\x3C\\x3E-\\x7E]{1,256}");

    /** Judges the TXT records found at {@code _mta-sts.<domain>} (each one's strings already joined). */
    static StsRecord of(List<String> txtRecords) {
        List<String> ours = txtRecords.stream().filter(t -> t.startsWith("v=STSv1")).toList();
        if (ours.isEmpty()) {
            return new Absent();
        }
        if (ours.size() > 1) {
            return new Invalid(ours.size() + " v=STSv1 records");
        }
        return parse(ours.get(0));
    }

    private static StsRecord parse(String text) {
        String[] fields = text.split(";", -1);
        String id = null;
        for (int i = 0; i < fields.length; i++) {
            String field = fields[i].strip();
            if (field.isEmpty() && i == fields.length - 1) {
                break; // a trailing ";" is allowed
            }
            int eq = field.indexOf('=');
            if (eq <= 0) {
                return new Invalid("field without '=': " + printable(field));
            }
            String name = field.substring(0, eq);
            String value = field.substring(eq + 1);
            if (i == 0) {
                if (!name.equals("v") || !value.equals("STSv1")) {
                    return new Invalid("does not begin with v=STSv1");
                }
            } else if (name.equals("id")) {
                if (id != null) {
                    return new Invalid("two id fields");
                }
                if (!ID.matcher(value).matches()) {
                    return new Invalid("id is not 1 to 32 letters and digits");
                }
                id = value;
            } else if (!EXT_NAME.matcher(name).matches() || !EXT_VALUE.matcher(value).matches()) {
                return new Invalid("malformed extension field " + printable(name));
            }
        }
        return id == null ? new Invalid("no id field") : new Valid(id);
    }

    /** At most 40 visible ASCII characters of what a remote zone wrote, for logs. */
    static String printable(String text) {
        String clipped = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return clipped.replaceAll("[^\\x20-\\x7E]", "?");
    }
}
