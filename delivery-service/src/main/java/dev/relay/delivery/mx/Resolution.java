package dev.relay.delivery.mx;

import dev.relay.delivery.transport.DeliveryStatus;
import dev.relay.delivery.transport.SmtpTarget;

import java.util.List;

/** Where the recipients of one domain go: addresses to try in order, or why there are none. */
public sealed interface Resolution {

    record Targets(List<SmtpTarget> targets) implements Resolution {
        public Targets {
            targets = List.copyOf(targets);
        }
    }

    /**
     * @param status TRANSIENT (DNS trouble: try again later) or PERMANENT (no such domain, null MX, refused
     *               private address)
     * @param reason in reply form, e.g. {@code 556 5.1.10 domain accepts no mail (null MX)}
     */
    record Unroutable(DeliveryStatus status, String reason) implements Resolution {
    }

    static Resolution transientFailure(String reason) {
        return new Unroutable(DeliveryStatus.TRANSIENT, reason);
    }

    static Resolution permanentFailure(String reason) {
        return new Unroutable(DeliveryStatus.PERMANENT, reason);
    }
}
