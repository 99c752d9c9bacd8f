package dev.relay.delivery.transport;

import dev.relay.delivery.destination.Destination;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Idle sessions kept for the next message to the same target (same host name, address, port, TLS policy and
 * credential name: a session authenticated with one credential never carries mail for a hop naming another).
 * A session comes back here after a transaction only if it is still usable, has carried fewer than
 * {@code max-messages} transactions and is clean (RSET after an aborted transaction); it is closed with QUIT
 * after {@code idle-timeout}, and dropped at once when the server closes it meanwhile. An idle session keeps its
 * destination connection slot, so the pool never holds more than {@code max-connections} per destination.
 */
final class SessionPool {

    private record Idle(OutboundSession session, long timer) {
    }

    private final Vertx vertx;
    private final ConnectionReuse reuse;
    private final Map<SmtpTarget, ArrayDeque<Idle>> idle = new HashMap<>();
    private final Consumer<OutboundSession> parked;
    private boolean closed;

    /** @param parked told after a session was put into the pool (to wake a delivery waiting for it) */
    SessionPool(Vertx vertx, ConnectionReuse reuse, Consumer<OutboundSession> parked) {
        this.vertx = vertx;
        this.reuse = reuse;
        this.parked = parked;
    }

    /** An idle usable session to exactly this target, now owned by the caller; null when there is none. */
    OutboundSession take(SmtpTarget target) {
        List<OutboundSession> dead = new ArrayList<>();
        OutboundSession found = null;
        synchronized (this) {
            ArrayDeque<Idle> queue = idle.get(target);
            while (queue != null && !queue.isEmpty() && found == null) {
                Idle entry = queue.pollLast(); // the most recently used: least likely to have timed out remotely
                vertx.cancelTimer(entry.timer());
                if (entry.session().usable()) {
                    found = entry.session();
                } else {
                    dead.add(entry.session());
                }
            }
            if (queue != null && queue.isEmpty()) {
                idle.remove(target);
            }
        }
        dead.forEach(OutboundSession::close);
        if (found != null) {
            found.connection().onBroken(() -> { });
        }
        return found;
    }

    /**
     * After a transaction: keep the session for the next message, or QUIT it. {@code keep} is false when the
     * caller already knows it must not be reused (throttling).
     */
    void release(OutboundSession session, boolean keep) {
        if (!keep || !reuse.enabled() || session.transactions() >= reuse.maxMessages()) {
            session.quit();
            return;
        }
        if (!session.usable()) {
            session.quit();
            return;
        }
        if (session.clean()) {
            park(session); // at once: the next message may already be on its way
            return;
        }
        session.reset().onComplete(ready -> {
            if (ready.failed() || !ready.result()) {
                session.quit();
                return;
            }
            park(session);
        });
    }

    /** Closes one idle session of the destination, so that its slot goes to a delivery that waits for one. */
    void evictOne(Destination destination) {
        OutboundSession victim = null;
        synchronized (this) {
            for (Iterator<Map.Entry<SmtpTarget, ArrayDeque<Idle>>> it = idle.entrySet().iterator(); it.hasNext()
                    && victim == null; ) {
                Map.Entry<SmtpTarget, ArrayDeque<Idle>> e = it.next();
                if (destinationOf(e.getKey()).equals(destination) && !e.getValue().isEmpty()) {
                    Idle entry = e.getValue().pollFirst();
                    vertx.cancelTimer(entry.timer());
                    victim = entry.session();
                    if (e.getValue().isEmpty()) {
                        it.remove();
                    }
                }
            }
        }
        if (victim != null) {
            victim.quit();
        }
    }

    /** QUITs every idle session. */
    Future<Void> close() {
        List<OutboundSession> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (ArrayDeque<Idle> queue : idle.values()) {
                for (Idle entry : queue) {
                    vertx.cancelTimer(entry.timer());
                    all.add(entry.session());
                }
            }
            idle.clear();
        }
        return Future.join(all.stream().map(OutboundSession::quit).toList()).mapEmpty();
    }

    synchronized int idleCount() {
        return idle.values().stream().mapToInt(ArrayDeque::size).sum();
    }

    static Destination destinationOf(SmtpTarget target) {
        return Destination.of(target.hostName(), target.port());
    }

    private void park(OutboundSession session) {
        SmtpTarget target = session.target();
        boolean refused;
        synchronized (this) {
            refused = closed;
            if (!refused) {
                long timer = vertx.setTimer(Math.max(1, reuse.idleTimeout().toMillis()), id -> expire(session));
                idle.computeIfAbsent(target, t -> new ArrayDeque<>()).addLast(new Idle(session, timer));
            }
        }
        if (refused) {
            session.quit();
            return;
        }
        // the server may close an idle connection (its own timeout, shutdown): drop it and free its slot at once
        session.connection().onBroken(() -> {
            if (remove(session)) {
                session.close();
            }
        });
        parked.accept(session);
    }

    private void expire(OutboundSession session) {
        if (remove(session)) {
            session.quit();
        }
    }

    private synchronized boolean remove(OutboundSession session) {
        ArrayDeque<Idle> queue = idle.get(session.target());
        if (queue == null) {
            return false;
        }
        for (Iterator<Idle> it = queue.iterator(); it.hasNext(); ) {
            Idle entry = it.next();
            if (entry.session() == session) {
                it.remove();
                vertx.cancelTimer(entry.timer());
                if (queue.isEmpty()) {
                    idle.remove(session.target());
                }
                return true;
            }
        }
        return false;
    }
}
