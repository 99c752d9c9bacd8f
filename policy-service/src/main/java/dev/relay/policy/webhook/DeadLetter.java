package dev.relay.policy.webhook;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An event given up on for one subscription, on the dead-letter topic (key = subscription id).
 *
 * @param subscription the subscription's id
 * @param attempts     POSTs tried
 * @param failedAt     epoch milliseconds of the last attempt
 * @param lastError    the last failure: {@code HTTP <status>} or the exception's class (never the secret)
 * @param event        the event as it was POSTed
 */
public record DeadLetter(String subscription, int attempts, long failedAt, String lastError, JsonNode event) {
}
