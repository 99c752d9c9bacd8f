package dev.relay.policy.webhook;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A failed POST waiting on the retry topic (key = subscription id) for its next attempt.
 *
 * @param subscription the subscription's id
 * @param attempt      the attempt this record is for (2 = the first retry)
 * @param due          epoch milliseconds before which it is not tried
 * @param lastError    why the previous attempt failed
 * @param event        the event to POST
 */
public record Pending(String subscription, int attempt, long due, String lastError, JsonNode event) {
}
