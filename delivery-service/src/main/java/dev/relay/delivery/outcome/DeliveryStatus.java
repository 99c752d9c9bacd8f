package dev.relay.delivery.outcome;

/**
 * The outcome class of one recipient at one hop, as RFC 5321 §4.2.1 defines reply classes: 2yz delivered,
 * 4yz transient (try again later), 5yz permanent (bounce). Anything we cannot classify is transient.
 */
public enum DeliveryStatus {
    DELIVERED,
    TRANSIENT,
    PERMANENT;

    public boolean isDelivered() {
        return this == DELIVERED;
    }

    public boolean isTransient() {
        return this == TRANSIENT;
    }

    public boolean isPermanent() {
        return this == PERMANENT;
    }

    /** The status a completed command's reply code implies: 2yz/3yz positive, 5yz permanent, else transient. */
    public static DeliveryStatus of(int replyCode) {
        if (replyCode >= 200 && replyCode < 400) {
            return DELIVERED;
        }
        return replyCode >= 500 && replyCode < 600 ? PERMANENT : TRANSIENT;
    }
}
