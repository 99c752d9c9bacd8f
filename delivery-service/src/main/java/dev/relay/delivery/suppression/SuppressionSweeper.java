package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.common.suppression.SuppressionList;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Writes the tombstones of expired suppression entries, so that the compacted topic forgets them instead of
 * growing with every address that ever bounced (docs/adr/0015). Every delivery instance sweeps what its follower
 * holds: a tombstone is idempotent (several instances writing one for the same expired key cost a few records
 * that compaction removes), so no owner has to be elected. Each sweep sends at most {@code maxPerSweep}
 * tombstones and none while the previous sweep's are unacknowledged; an entry leaves the list only when its
 * tombstone is acknowledged (and only if no newer entry replaced it meanwhile), so a failed send is retried by
 * the next sweep. Expired entries never suppress in the meantime.
 */
public final class SuppressionSweeper {

    private static final System.Logger LOG = System.getLogger(SuppressionSweeper.class.getName());

    private final SuppressionList list;
    private final Function<String, CompletionStage<Void>> tombstone;
    private final int maxPerSweep;
    private final Clock clock;
    private final AtomicBoolean inFlight = new AtomicBoolean();

    /** @param tombstone sends a tombstone for the key (lower-cased address); completes when acknowledged */
    public SuppressionSweeper(SuppressionList list, Function<String, CompletionStage<Void>> tombstone,
                              int maxPerSweep, Clock clock) {
        if (maxPerSweep < 1) {
            throw new IllegalArgumentException("sweep-max must be at least 1, was " + maxPerSweep);
        }
        this.list = list;
        this.tombstone = tombstone;
        this.maxPerSweep = maxPerSweep;
        this.clock = clock;
    }

    /**
     * One sweep. @return completes with the number of tombstones acknowledged (0 when a sweep was still running);
     * never fails (a failed send is logged and its entry kept for the next sweep)
     */
    public CompletionStage<Integer> sweep() {
        if (!inFlight.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(0);
        }
        List<SuppressionEntry> due;
        try {
            due = list.expired(clock.instant(), maxPerSweep);
        } catch (RuntimeException e) {
            inFlight.set(false);
            throw e;
        }
        List<CompletableFuture<Boolean>> sends = new ArrayList<>(due.size());
        for (SuppressionEntry entry : due) {
            CompletableFuture<Boolean> sent;
            try {
                sent = tombstone.apply(entry.address()).toCompletableFuture().thenApply(ok -> {
                    list.removeIfSame(entry);
                    return true;
                });
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            sends.add(sent.exceptionally(failure -> {
                LOG.log(System.Logger.Level.WARNING, "tombstone for an expired suppression entry not written "
                        + "(retried next sweep): " + failure);
                return false;
            }));
        }
        return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).handle((ignored, never) -> {
            inFlight.set(false);
            return (int) sends.stream().filter(CompletableFuture::join).count();
        });
    }
}
