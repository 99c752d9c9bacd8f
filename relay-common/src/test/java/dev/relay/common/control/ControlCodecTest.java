package dev.relay.common.control;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlCodecTest {

    @Test
    void aCommandRoundTripsAndMatchesOnlyWhatWasWaitingBeforeIt() {
        QueueCommand c = QueueCommand.of(QueueCommand.Action.RETRY_NOW, null, "Example.COM.", false, "alice",
                "remote fixed");
        QueueCommand back = ControlCodec.command(ControlCodec.encode(c));
        assertEquals(c, back);
        assertEquals("example.com", back.domain());
        assertEquals("retry-now", back.actionName());
        assertTrue(back.matches("q1", "EXAMPLE.com", back.issuedAt() - 1));
        assertFalse(back.matches("q1", "example.com", back.issuedAt() + 1), "deferred after the command");
        assertFalse(back.matches("q1", "other.example", back.issuedAt() - 1));
    }

    @Test
    void exactlyOneScopeAndAllOnlyForRetry() {
        assertThrows(IllegalArgumentException.class, () -> QueueCommand.of(QueueCommand.Action.BOUNCE, "q1",
                "example.com", false, "a", ""));
        assertThrows(IllegalArgumentException.class, () -> QueueCommand.of(QueueCommand.Action.BOUNCE, null,
                null, false, "a", ""));
        assertThrows(IllegalArgumentException.class, () -> QueueCommand.of(QueueCommand.Action.DELETE, null,
                null, true, "a", ""));
        assertTrue(QueueCommand.of(QueueCommand.Action.RETRY_NOW, null, null, true, "a", "").matches("x", null, 0));
    }

    @Test
    void hostileTextIsRefusedOrFlattened() {
        assertThrows(IllegalArgumentException.class, () -> QueueCommand.of(QueueCommand.Action.DELETE,
                "q1\r\nRCPT", null, false, "a", ""));
        assertThrows(IllegalArgumentException.class, () -> QueueCommand.of(QueueCommand.Action.DELETE,
                "x".repeat(65), null, false, "a", ""));
        assertThrows(IllegalArgumentException.class, () -> new DestinationHold("bad domain!", true, "a", 1, ""));
        assertThrows(IllegalArgumentException.class, () -> new DestinationHold("", true, "a", 1, ""));
        DestinationHold h = new DestinationHold("bücher.example", true, "bob\r\nx", 1, "r".repeat(1000));
        assertEquals("xn--bcher-kva.example", h.domain());
        assertEquals("bob  x", h.actor());
        assertEquals(QueueCommand.MAX_REASON, h.reason().length());
        assertEquals(h, ControlCodec.hold(ControlCodec.encode(h)));
    }

    @Test
    void undecodableRecordsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ControlCodec.command(null));
        assertThrows(IllegalArgumentException.class, () -> ControlCodec.command(new byte[ControlCodec.MAX_BYTES + 1]));
        assertThrows(IllegalArgumentException.class, () -> ControlCodec.command("{".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> ControlCodec.command(
                "{\"id\":\"1\",\"action\":\"RETRY_NOW\",\"all\":false,\"issuedAt\":1}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> ControlCodec.hold(
                "{\"domain\":\"a b\",\"held\":true}".getBytes(StandardCharsets.UTF_8)));
    }
}
