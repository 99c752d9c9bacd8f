package dev.relay.common.lifecycle;

import java.time.Duration;
import java.util.function.IntSupplier;

/**
 * The wait at shutdown for work in flight (SMTP sessions in the ingress, inbound records in the policy, deliveries
 * in the delivery worker): poll a count until it is zero or the grace period is over. Runs on the shutdown thread,
 * never on an event loop. An interrupt ends the wait early and stays set for the caller.
 */
public final class Drain {

    private Drain() {
    }

    /**
     * Waits until {@code inFlight} is zero, at most {@code grace}, looking every {@code pollMillis}.
     *
     * @return whether nothing was left in flight
     */
    public static boolean await(IntSupplier inFlight, Duration grace, long pollMillis) {
        long deadline = System.nanoTime() + grace.toNanos();
        while (inFlight.getAsInt() > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return inFlight.getAsInt() <= 0;
    }
}
