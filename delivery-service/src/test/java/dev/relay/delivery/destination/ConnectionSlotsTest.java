package dev.relay.delivery.destination;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionSlotsTest {

    private final Destination mx = Destination.of("mx.example.org", 25);
    private final Destination other = Destination.of("mx.example.net", 25);

    @Test
    void shouldQueueBeyondTheLimitAndHandSlotsOverInOrder() {
        ConnectionSlots slots = new ConnectionSlots(2, 10);

        Future<Boolean> a = slots.acquire(mx);
        Future<Boolean> b = slots.acquire(mx);
        Future<Boolean> c = slots.acquire(mx);
        Future<Boolean> d = slots.acquire(mx);

        assertThat(a.succeeded() && b.succeeded()).isTrue();
        assertThat(c.isComplete() || d.isComplete()).isFalse();
        assertThat(slots.hasWaiting(mx)).isTrue();
        slots.release(mx);
        assertThat(c.result()).isTrue();
        assertThat(d.isComplete()).isFalse();
        assertThat(slots.open(mx)).isEqualTo(2);
    }

    @Test
    void shouldWakeTheFirstWaiterWhenAConnectionGoesIdle() {
        ConnectionSlots slots = new ConnectionSlots(1, 10);
        slots.acquire(mx);
        Future<Boolean> waiting = slots.acquire(mx);

        assertThat(slots.offerIdle(other)).isFalse();
        assertThat(slots.offerIdle(mx)).isTrue();

        assertThat(waiting.result()).as("woken for the idle connection, no slot of its own").isFalse();
        assertThat(slots.open(mx)).isEqualTo(1);
        assertThat(slots.offerIdle(mx)).isFalse();
    }

    @Test
    void shouldNotLetOneDestinationBlockAnother() {
        ConnectionSlots slots = new ConnectionSlots(1, 10);
        slots.acquire(mx);
        Future<Boolean> waiting = slots.acquire(mx);

        assertThat(waiting.isComplete()).isFalse();
        assertThat(slots.acquire(other).succeeded()).isTrue();
    }

    @Test
    void shouldRefuseWhenTheQueueIsFull() {
        ConnectionSlots slots = new ConnectionSlots(1, 1);
        slots.acquire(mx);
        slots.acquire(mx);

        Future<Boolean> refused = slots.acquire(mx);

        assertThat(refused.failed()).isTrue();
        assertThat(refused.cause()).isInstanceOf(DestinationBusyException.class);
    }

    @Test
    void shouldForgetADestinationWhoseConnectionsAreAllClosed() {
        ConnectionSlots slots = new ConnectionSlots(1, 1);
        slots.acquire(mx);
        slots.release(mx);
        slots.release(mx); // one release too many changes nothing

        assertThat(slots.open(mx)).isZero();
        assertThat(slots.acquire(mx).succeeded()).isTrue();
        assertThat(slots.acquire(mx).isComplete()).isFalse();
    }
}
