package dev.relay.delivery.mx;

import dev.relay.delivery.outcome.RecipientResult;

import java.util.List;

/**
 * A look at the results of one attempt to a domain's targets by the TLS policy that chose them (MTA-STS), after
 * the SMTP client is done: e.g. a certificate failure under {@code enforce} becomes the policy's {@code 4.7.5}, and
 * {@code testing} records whether enforce would have passed. Pure and quick: it runs on the delivery's thread.
 */
@FunctionalInterface
public interface ResultReview {

    ResultReview NONE = results -> results;

    List<RecipientResult> review(List<RecipientResult> results);
}
