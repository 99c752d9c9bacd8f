package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/** QUIT and close. The outcome is already decided: nothing that happens here can change it. */
final class QuitPhase {

    private static final Duration QUIT_TIMEOUT = Duration.ofSeconds(10);

    private QuitPhase() {
    }

    static Future<Void> run(OutboundConnection conn, Duration commandTimeout) {
        Duration timeout = commandTimeout.compareTo(QUIT_TIMEOUT) < 0 ? commandTimeout : QUIT_TIMEOUT;
        return conn.command("QUIT", timeout)
                .<Void>transform(ignored -> {
                    conn.close();
                    return Future.succeededFuture();
                });
    }
}
