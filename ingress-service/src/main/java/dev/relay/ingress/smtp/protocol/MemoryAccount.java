package dev.relay.ingress.smtp.protocol;

/**
 * Where a {@link MessageBuffer} reserves the bytes it holds: the process-wide {@link MemoryBudget}, or one client's
 * share of it ({@link MemoryBudget#forClient}). Every successful reservation is given back exactly once, by the
 * buffer's release.
 */
public interface MemoryAccount {

    /** Reserves {@code bytes}, or reserves nothing and answers false when they do not fit. */
    boolean tryReserve(long bytes);

    void release(long bytes);

    /** Whether nothing more can be reserved right now (checked before 354 / the first BDAT chunk). */
    boolean exhausted();
}
