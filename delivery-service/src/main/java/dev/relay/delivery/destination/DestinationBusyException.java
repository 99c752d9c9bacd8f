package dev.relay.delivery.destination;

/** A delivery could not be admitted to a destination (queue full, rate too high): defer it, do not connect. */
public final class DestinationBusyException extends RuntimeException {

    public DestinationBusyException(String message) {
        super(message, null, false, false);
    }
}
