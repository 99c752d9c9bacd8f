package dev.relay.common.limits;

import java.util.Arrays;
import java.util.Optional;

/** What a rate limit counts by. */
public enum Per {
    IDENTITY("identity"), SENDER_DOMAIN("sender-domain"), CLIENT_ADDRESS("client-address");

    private final String label;

    Per(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Optional<Per> of(String label) {
        return Arrays.stream(values()).filter(p -> p.label.equals(label)).findFirst();
    }
}
