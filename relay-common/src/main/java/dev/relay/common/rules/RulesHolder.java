package dev.relay.common.rules;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The newest valid rules a service has, with their revision (the offset of the record in the rules topic; -1
 * for the configured seed). Read on every decision (e.g. at RCPT), so an update applies to the next command.
 */
public final class RulesHolder implements Supplier<RelayRules> {

    /** @param revision topic offset of the record these rules came from; -1 for the configuration seed */
    public record Current(RelayRules rules, long revision) {
    }

    private volatile Current current;

    public RulesHolder(RelayRules seed) {
        this.current = new Current(seed, -1);
    }

    @Override
    public RelayRules get() {
        return current.rules();
    }

    public Current current() {
        return current;
    }

    public synchronized void update(RelayRules rules, long revision) {
        if (revision >= current.revision()) {
            current = new Current(rules, revision);
            notifyAll();
        }
    }

    /** Waits until rules of at least this revision are in force. @return whether they are */
    public synchronized boolean awaitRevision(long revision, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (current.revision() < revision) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }
}
