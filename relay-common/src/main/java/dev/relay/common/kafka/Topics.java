package dev.relay.common.kafka;

/** Default topic names and record header names shared by all services (see DESIGN.md, "Topics"). */
public final class Topics {

    public static final String INBOUND = "relay.inbound.v1";
    public static final String OUTBOUND = "relay.outbound.v1";
    public static final String RETRY = "relay.retry.v1";
    public static final String EVENTS = "relay.events.v1";
    public static final String RULES = "relay.rules.v1";
    public static final String DLQ = "relay.dlq.v1";

    /** Record header holding the {@link dev.relay.common.envelope.Envelope} as JSON. */
    public static final String ENVELOPE_HEADER = "relay-envelope";

    private Topics() {
    }
}
