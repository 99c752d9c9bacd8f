package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One message's lifecycle as the trace store keeps it (docs/adr/0020): the events of every service in time order,
 * at most {@code maxEvents} of them (the later ones are counted in {@code dropped}, not kept), and what the events
 * said about each recipient, from which the status is derived. The recipients' states are kept from every event,
 * kept or dropped, so that the status stays right when the event list is truncated.
 *
 * @param id         the queue id
 * @param sender     the envelope sender as the first event that names it said (the ingress {@code received})
 * @param recipients the recipients in the order events named them, at most {@link #MAX_RECIPIENTS}
 * @param states     recipient to its latest state (by event time)
 * @param events     the kept events, sorted by {@code at} (epoch ms), each without its {@code messageId}
 * @param dropped    events not kept because the trace had {@code maxEvents} already
 * @param firstAt    the earliest event time, epoch ms
 * @param lastAt     the latest event time, epoch ms: retention counts from it
 */
public record Trace(String id, String sender, List<String> recipients, Map<String, RecipientState> states,
                    List<JsonNode> events, int dropped, long firstAt, long lastAt) {

    /** More recipients than the ingress accepts in one transaction are not tracked one by one. */
    public static final int MAX_RECIPIENTS = 1000;

    /** A recipient's latest state and the time of the event that set it. */
    public record RecipientState(String state, long at) {
    }

    /** The statuses a message can have (the search's {@code status} filter takes these). */
    public static final List<String> STATUSES = List.of("received", "queued", "held", "deferred", "delivered",
            "bounced", "partially-delivered", "rejected");

    static Trace empty(String id) {
        return new Trace(id, null, List.of(), Map.of(), List.of(), 0, Long.MAX_VALUE, Long.MIN_VALUE);
    }

    /**
     * This trace with one more event ({@code type}, {@code at} present; {@code messageId} removed by the caller).
     * The event is inserted after every kept event of the same or an earlier time.
     */
    Trace with(ObjectNode event, int maxEvents) {
        long at = event.get("at").asLong();
        String type = event.get("type").asText();
        String newSender = sender == null && event.hasNonNull("sender") ? event.get("sender").asText() : sender;
        List<String> newRecipients = new ArrayList<>(recipients);
        Map<String, RecipientState> newStates = new LinkedHashMap<>(states);
        String state = recipientState(type, event.path("service").asText());
        for (JsonNode r : event.path("recipients")) {
            String recipient = r.asText();
            if (!newRecipients.contains(recipient)) {
                if (newRecipients.size() >= MAX_RECIPIENTS) {
                    continue;
                }
                newRecipients.add(recipient);
            }
            RecipientState old = newStates.get(recipient);
            if (state != null && (old == null || at >= old.at())) {
                newStates.put(recipient, new RecipientState(state, at));
            }
        }
        List<JsonNode> newEvents = new ArrayList<>(events);
        int newDropped = dropped;
        if (newEvents.size() < maxEvents) {
            int i = newEvents.size();
            while (i > 0 && newEvents.get(i - 1).get("at").asLong() > at) {
                i--;
            }
            newEvents.add(i, event);
        } else {
            newDropped++;
        }
        return new Trace(id, newSender, newRecipients, newStates, newEvents, newDropped, Math.min(firstAt, at),
                Math.max(lastAt, at));
    }

    /**
     * What an event type says about its recipients: received, queued (routed), held, deferred, delivered,
     * bounced (bounced, expired, suppressed, refused by the policy), rejected (refused in the SMTP session).
     */
    static String recipientState(String type, String service) {
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "received" -> "received";
            case "routed" -> "queued";
            case "held" -> "held";
            case "deferred" -> "deferred";
            case "delivered" -> "delivered";
            case "bounced", "expired", "suppressed" -> "bounced";
            case "rejected" -> "ingress".equals(service) ? "rejected" : "bounced";
            default -> null;
        };
    }

    /**
     * The message's status: while any recipient is still under way, the least advanced of deferred, held, queued,
     * received; once all are done, delivered, bounced or partially-delivered (recipients refused in the SMTP
     * session count only when all were: rejected). A message whose events named no recipient has the state of
     * its latest event.
     */
    public String status() {
        if (states.isEmpty()) {
            for (int i = events.size() - 1; i >= 0; i--) {
                String s = recipientState(events.get(i).path("type").asText(), events.get(i).path("service").asText());
                if (s != null) {
                    return s;
                }
            }
            return "received";
        }
        List<String> all = states.values().stream().map(RecipientState::state).distinct().toList();
        if (all.size() > 1) {
            // a recipient refused in the session was never accepted: the others decide
            all = all.stream().filter(s -> !s.equals("rejected")).toList();
        }
        for (String underWay : List.of("deferred", "held", "queued", "received")) {
            if (all.contains(underWay)) {
                return underWay;
            }
        }
        if (all.size() == 1) {
            return all.get(0);
        }
        if (all.contains("delivered")) {
            return "partially-delivered";
        }
        return "bounced";
    }
}
