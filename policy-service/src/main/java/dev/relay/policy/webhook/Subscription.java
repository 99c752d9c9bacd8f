package dev.relay.policy.webhook;

import java.util.List;

/**
 * One webhook subscription as stored on the compacted subscriptions topic (key = {@code id}).
 *
 * @param id      a random id, the record key and the {@code Relay-Webhook-Id} header of every POST
 * @param url     where events are POSTed (https; http only when the operator allows it for tests)
 * @param events  the event types wanted ({@link WebhookCodec#EVENT_TYPES}); empty = all of them
 * @param secret  the HMAC-SHA256 key of the signatures; written to the topic, never answered or logged
 * @param created epoch milliseconds
 */
public record Subscription(String id, String url, List<String> events, String secret, long created) {

    public Subscription {
        events = events == null ? List.of() : List.copyOf(events);
    }

    /** Whether an event of this type goes to this subscription. */
    public boolean wants(String type) {
        return events.isEmpty() || events.contains(type);
    }

    /** What the API shows: everything but the secret. */
    public View view() {
        return new View(id, url, events.isEmpty() ? List.of("all") : events, created);
    }

    /** A subscription without its secret. */
    public record View(String id, String url, List<String> events, long created) {
    }

    @Override
    public String toString() {
        return "Subscription[id=" + id + ", url=" + url + ", events=" + events + "]";
    }
}
