package dev.relay.testkit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared test client against a real SMTP peer: the capture MX on loopback, port 0. */
class SmtpTestClientTest {

    @Test
    void shouldSpeakADialogueAndKeepItsTranscript() throws Exception {
        try (CaptureMx mx = CaptureMx.start(0, null); SmtpTestClient smtp = SmtpTestClient.plain(mx.port())) {
            assertTrue(smtp.reply().startsWith("220"));
            assertTrue(smtp.send("EHLO client.example.test").startsWith("250"));
            assertTrue(smtp.send("MAIL FROM:<a@example.test>").startsWith("250"));
            assertTrue(smtp.send("RCPT TO:<b@example.net>").startsWith("250"));
            assertTrue(smtp.send("DATA").startsWith("354"));
            assertTrue(smtp.send("Subject: hi\r\n\r\nhello\r\n.").startsWith("250"));
            assertTrue(smtp.send("QUIT").startsWith("221"));

            List<CapturedMessage> messages = mx.awaitMessages(1, Duration.ofSeconds(10));
            assertEquals(1, messages.size());
            assertEquals(List.of("b@example.net"), messages.get(0).recipients());
            assertTrue(smtp.transcript().contains("C: EHLO client.example.test"), smtp.transcript());
            assertTrue(smtp.transcript().contains("S: 221"), smtp.transcript());
        }
    }
}
