package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionEntry;

import java.util.Optional;

/** Asked before each delivery attempt: is this recipient suppressed now? Must not block (event loop). */
@FunctionalInterface
public interface SuppressionCheck {

    /** Nothing is suppressed (the suppression list is off, or a test builds the deliverer without it). */
    SuppressionCheck NONE = recipient -> Optional.empty();

    Optional<SuppressionEntry> check(String recipient);
}
