package dev.relay.ingress.events;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import org.jboss.logging.MDC;

/**
 * Writes log lines with the message's queue id in the logging MDC under {@code messageId}, the key the policy and
 * the delivery use too (and that the console and JSON formats print).
 *
 * <p>Why not a plain {@code MDC.put}: Quarkus keeps the MDC of code running on Vert.x in the <em>duplicated</em>
 * context's local data, and on a root event-loop context (where the SMTP sockets' handlers run) it makes a new
 * duplicated context for every MDC call, so a value put is never seen by the log call after it: every ingress line
 * had an empty {@code messageId}. Here the lines are written inside a duplicated context of the current one,
 * dispatched synchronously on the same thread, where put and log read the same map; off Vert.x (a Kafka callback
 * thread) the MDC is thread-local and used as is. Only log statements belong inside: the session's own work stays
 * on its root context.
 */
public final class MessageMdc {

    public static final String KEY = "messageId";

    private MessageMdc() {
    }

    /** Runs {@code log} (log statements) with {@code messageId} in the MDC, then puts back what was there. */
    public static void run(String messageId, Runnable log) {
        Context current = Vertx.currentContext();
        if (current instanceof ContextInternal internal && !internal.isDuplicate()) {
            internal.duplicate().dispatch(() -> withMdc(messageId, log));
        } else {
            withMdc(messageId, log);
        }
    }

    private static void withMdc(String messageId, Runnable log) {
        Object previous = MDC.get(KEY);
        MDC.put(KEY, messageId);
        try {
            log.run();
        } finally {
            if (previous == null) {
                MDC.remove(KEY);
            } else {
                MDC.put(KEY, previous);
            }
        }
    }
}
