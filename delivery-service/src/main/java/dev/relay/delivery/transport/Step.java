package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.util.function.Function;

/**
 * The result of one SMTP phase: go on with a value, or stop with the session's outcome. Lets the phases be
 * chained with {@code compose} while refusals stay values, not exceptions.
 */
sealed interface Step<T> {

    record Next<T>(T value) implements Step<T> {
    }

    record Stop<T>(HopOutcome outcome) implements Step<T> {
    }

    static <T> Future<Step<T>> next(T value) {
        return Future.succeededFuture(new Next<>(value));
    }

    static <T> Future<Step<T>> stop(HopOutcome outcome) {
        return Future.succeededFuture(new Stop<>(outcome));
    }

    /** Runs {@code phase} on the value of a {@link Next}; passes a {@link Stop} through untouched. */
    static <A, B> Function<Step<A>, Future<Step<B>>> then(Function<A, Future<Step<B>>> phase) {
        return step -> {
            if (step instanceof Next<A> next) {
                return phase.apply(next.value());
            }
            return Future.succeededFuture(new Stop<>(((Stop<A>) step).outcome()));
        };
    }

    /** The outcome of the last step: a chain ends with a {@link Stop}, or a {@link Next} carrying the outcome. */
    static HopOutcome outcome(Step<HopOutcome> step) {
        return step instanceof Next<HopOutcome> next ? next.value() : ((Stop<HopOutcome>) step).outcome();
    }
}
