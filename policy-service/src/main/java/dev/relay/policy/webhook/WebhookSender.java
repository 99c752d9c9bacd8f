package dev.relay.policy.webhook;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * POSTs one event to one subscription, signed, within a bounded time ({@code relay.policy.webhooks.timeout}, for
 * connecting and for the answer alike); the answer's body is discarded unread. Redirects are not followed.
 */
final class WebhookSender {

    /** What one POST came to: delivered, worth another attempt (timeouts, connection errors, 5xx, 429), or not. */
    enum Outcome { DELIVERED, RETRY, FAIL }

    record Result(Outcome outcome, String error) {
    }

    private final HttpClient client;
    private final Duration timeout;
    private final Clock clock;

    WebhookSender(Duration timeout, Clock clock) {
        this.timeout = timeout;
        this.clock = clock;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    CompletableFuture<Result> post(Subscription subscription, byte[] body) {
        long timestamp = clock.instant().getEpochSecond();
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(subscription.url())).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .header("Relay-Webhook-Id", subscription.id())
                    .header("Relay-Webhook-Timestamp", Long.toString(timestamp))
                    .header("Relay-Webhook-Signature", WebhookSigner.signature(subscription.secret(), timestamp, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(new Result(Outcome.FAIL, "bad URL"));
        }
        return client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .orTimeout(timeout.toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((response, error) -> {
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        return new Result(Outcome.RETRY, cause.getClass().getSimpleName());
                    }
                    int status = response.statusCode();
                    if (status >= 200 && status < 300) {
                        return new Result(Outcome.DELIVERED, null);
                    }
                    return new Result(status == 429 || status >= 500 ? Outcome.RETRY : Outcome.FAIL,
                            "HTTP " + status);
                });
    }
}
