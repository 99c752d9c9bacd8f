package dev.relay.ingress.smtp.protocol;

import dev.relay.common.dsn.Xtext;
import dev.relay.common.envelope.Dsn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The ESMTP parameters of MAIL (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531, AUTH RFC 4954, RET and ENVID
 * RFC 3461) and RCPT (NOTIFY and ORCPT RFC 3461): parsed and checked, or refused with the reply that says why.
 */
public final class EnvelopeParameters {

    private static final Set<String> NOTIFY_VALUES = Set.of("SUCCESS", "FAILURE", "DELAY");

    public record Mail(boolean smtputf8, String body, String ret, String envid) {
    }

    /** Exactly one of value and refusal is set. */
    public record Parsed<T>(T value, Reply refusal) {
        static <T> Parsed<T> ok(T value) {
            return new Parsed<>(value, null);
        }

        static <T> Parsed<T> refuse(Reply reply) {
            return new Parsed<>(null, reply);
        }
    }

    private EnvelopeParameters() {
    }

    public static Parsed<Mail> mail(Map<String, String> params, long maxSize) {
        boolean utf8 = false;
        String body = "7BIT";
        String ret = null;
        String envid = null;
        for (Map.Entry<String, String> p : params.entrySet()) {
            String value = p.getValue();
            switch (p.getKey()) {
                case "SIZE" -> {
                    if (value == null || !value.matches("[0-9]{1,18}")) {
                        return Parsed.refuse(Replies.syntax("SIZE needs a number"));
                    }
                    if (Long.parseLong(value) > maxSize) {
                        return Parsed.refuse(Replies.MESSAGE_TOO_BIG);
                    }
                }
                case "BODY" -> {
                    body = value == null ? "" : value.toUpperCase(Locale.ROOT);
                    if (!body.equals("7BIT") && !body.equals("8BITMIME")) {
                        return Parsed.refuse(Replies.syntax("BODY must be 7BIT or 8BITMIME"));
                    }
                }
                case "SMTPUTF8" -> {
                    if (value != null) {
                        return Parsed.refuse(Replies.syntax("SMTPUTF8 takes no value"));
                    }
                    utf8 = true;
                }
                case "AUTH" -> {
                    // RFC 4954 §5: accepted, never trusted
                }
                case "RET" -> {
                    ret = value == null ? "" : value.toUpperCase(Locale.ROOT);
                    if (!ret.equals("FULL") && !ret.equals("HDRS")) {
                        return Parsed.refuse(Replies.syntax("RET must be FULL or HDRS"));
                    }
                }
                case "ENVID" -> {
                    envid = value == null || value.length() > 100 ? null : Xtext.decode(value);
                    if (envid == null) {
                        return Parsed.refuse(Replies.syntax("ENVID must be xtext of at most 100 characters"));
                    }
                }
                default -> {
                    return Parsed.refuse(Replies.UNSUPPORTED_PARAMETER);
                }
            }
        }
        return Parsed.ok(new Mail(utf8, body, ret, envid));
    }

    /** RCPT parameters; the value is null when the client gave no DSN parameters. */
    public static Parsed<Dsn.Recipient> rcpt(Map<String, String> params) {
        List<String> notify = null;
        String orcpt = null;
        for (Map.Entry<String, String> p : params.entrySet()) {
            String value = p.getValue();
            switch (p.getKey()) {
                case "NOTIFY" -> {
                    notify = notify(value);
                    if (notify == null) {
                        return Parsed.refuse(Replies.syntax("NOTIFY must be NEVER or SUCCESS, FAILURE, DELAY"));
                    }
                }
                case "ORCPT" -> {
                    orcpt = orcpt(value);
                    if (orcpt == null) {
                        return Parsed.refuse(Replies.syntax("ORCPT must be addr-type;xtext"));
                    }
                }
                default -> {
                    return Parsed.refuse(Replies.UNSUPPORTED_PARAMETER);
                }
            }
        }
        return Parsed.ok(notify == null && orcpt == null ? null : new Dsn.Recipient(notify, orcpt));
    }

    private static List<String> notify(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        String upper = value.toUpperCase(Locale.ROOT);
        if (upper.equals("NEVER")) {
            return List.of("NEVER");
        }
        List<String> out = new ArrayList<>();
        for (String v : upper.split(",", -1)) {
            if (!NOTIFY_VALUES.contains(v) || out.contains(v)) {
                return null;
            }
            out.add(v);
        }
        return out;
    }

    private static String orcpt(String value) {
        if (value == null || value.length() > 500) {
            return null;
        }
        int semi = value.indexOf(';');
        if (semi <= 0 || !value.substring(0, semi).matches("[A-Za-z0-9][A-Za-z0-9-]*")) {
            return null;
        }
        String address = Xtext.decode(value.substring(semi + 1));
        return address == null || address.isEmpty() ? null : value.substring(0, semi) + ";" + address;
    }
}
