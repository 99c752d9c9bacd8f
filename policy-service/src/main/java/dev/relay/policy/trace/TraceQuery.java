package dev.relay.policy.trace;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Comparator;
import java.util.Locale;

/**
 * A search of the traces: every filter given must match (sender and recipient exactly, case-insensitively; status
 * one of {@link Trace#STATUSES}; {@code from} inclusive and {@code to} exclusive on the message's first event),
 * newest first (then by id), {@code limit} per page, continuing after {@code cursor}.
 */
public record TraceQuery(String sender, String recipient, String status, Instant from, Instant to, int limit,
                         Cursor cursor) {

    /** Where a page ended: the first-event time and id of its last item (opaque to clients: base64url). */
    public record Cursor(long at, String id) {

        public String encode() {
            return Base64.getUrlEncoder().withoutPadding().encodeToString((at + ":" + id)
                    .getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String value) {
            try {
                String text = new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
                int colon = text.indexOf(':');
                String id = text.substring(colon + 1);
                if (colon < 1 || !TraceIds.valid(id)) {
                    throw new IllegalArgumentException("cursor is not one this API gave");
                }
                return new Cursor(Long.parseLong(text.substring(0, colon)), id);
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                throw new IllegalArgumentException("cursor is not one this API gave");
            }
        }
    }

    /** Newest first, then by id: the order of every page. */
    public static final Comparator<Trace> ORDER = Comparator.comparingLong(Trace::firstAt).reversed()
            .thenComparing(Trace::id);

    /**
     * The query from the request's parameters.
     *
     * @throws IllegalArgumentException with a message for the client when a parameter is malformed
     */
    public static TraceQuery parse(String sender, String recipient, String status, String from, String to,
                                   String limit, String cursor, int maxLimit) {
        int n = Math.min(50, maxLimit);
        if (limit != null && !limit.isBlank()) {
            try {
                n = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("limit must be a whole number");
            }
            if (n < 1 || n > maxLimit) {
                throw new IllegalArgumentException("limit must be between 1 and " + maxLimit);
            }
        }
        String st = blank(status) ? null : status.strip().toLowerCase(Locale.ROOT);
        if (st != null && !Trace.STATUSES.contains(st)) {
            throw new IllegalArgumentException("status must be one of " + String.join(", ", Trace.STATUSES));
        }
        Instant f = instant("from", from);
        Instant t = instant("to", to);
        if (f != null && t != null && !f.isBefore(t)) {
            throw new IllegalArgumentException("from must be before to");
        }
        for (String address : new String[]{sender, recipient}) {
            if (address != null && address.length() > 320) {
                throw new IllegalArgumentException("sender and recipient are at most 320 characters");
            }
        }
        return new TraceQuery(blank(sender) ? null : sender.strip(), blank(recipient) ? null : recipient.strip(), st,
                f, t, n, blank(cursor) ? null : Cursor.decode(cursor.strip()));
    }

    /** Whether a trace passes every filter and comes after the cursor. */
    public boolean matches(Trace trace) {
        if (cursor != null && (trace.firstAt() > cursor.at()
                || (trace.firstAt() == cursor.at() && trace.id().compareTo(cursor.id()) <= 0))) {
            return false;
        }
        if (sender != null && (trace.sender() == null || !trace.sender().equalsIgnoreCase(sender))) {
            return false;
        }
        if (recipient != null && trace.recipients().stream().noneMatch(r -> r.equalsIgnoreCase(recipient))) {
            return false;
        }
        if (status != null && !status.equals(trace.status())) {
            return false;
        }
        if (from != null && trace.firstAt() < from.toEpochMilli()) {
            return false;
        }
        return to == null || trace.firstAt() < to.toEpochMilli();
    }

    private static Instant instant(String name, String value) {
        if (blank(value)) {
            return null;
        }
        try {
            return Instant.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " must be an ISO-8601 instant, e.g. 2026-12-03T18:00:00Z");
        }
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
