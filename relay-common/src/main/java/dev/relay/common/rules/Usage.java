package dev.relay.common.rules;

/** What the cluster has counted so far, as far as this process knows. */
@FunctionalInterface
public interface Usage {

    Usage NONE = slot -> Count.ZERO;

    Count used(Slot slot);

    default Usage plus(Usage other) {
        return slot -> used(slot).plus(other.used(slot));
    }
}
