package dev.relay.delivery.probe;

/** A probe that stopped at {@link #stage()}; the message says why, for the log (never a secret or a token). */
final class ProbeFailure extends Exception {

    private final ProbeMetrics.Stage stage;

    ProbeFailure(ProbeMetrics.Stage stage, String message) {
        super(message, null, false, false);
        this.stage = stage;
    }

    ProbeMetrics.Stage stage() {
        return stage;
    }
}
