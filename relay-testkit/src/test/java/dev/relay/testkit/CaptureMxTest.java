package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptureMxTest {

    @TempDir
    Path mailDir;

    @Test
    void pipelinedTransactionKeepsUnstuffedBytesExactly() throws Exception {
        // what the sender means: 8-bit bytes, a bare LF and a bare CR inside lines, lines starting with dots
        byte[] message = concat(ascii("From: a@example.test\r\nTo: b@example.net\r\nSubject: caf"),
                new byte[] {(byte) 0xC3, (byte) 0xA9}, ascii("\r\n\r\n"),
                ascii(".leading dot\r\n"),
                ascii("..two dots\r\n"),
                new byte[] {(byte) 0xFF, (byte) 0x80, 0x00, '\n', '.', '\r', 'x', '\r', '\n'},
                ascii("last line\r\n"));
        // on the wire: every line starting with '.' gets one more
        byte[] wire = concat(stuffed(message), ascii(".\r\n"));
        assertTrue(new String(wire, StandardCharsets.ISO_8859_1).contains("\r\n...two dots\r\n"));

        try (CaptureMx mx = CaptureMx.start(0, mailDir);
             Socket socket = new Socket("127.0.0.1", mx.port())) {
            assertTrue(mx.port() > 0);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            assertTrue(reply(in).startsWith("220 "));
            out.write(ascii("EHLO client.example.test\r\n"));
            String ehlo = reply(in);
            for (String ext : List.of("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 52428800", "ENHANCEDSTATUSCODES")) {
                assertTrue(ehlo.contains(ext), ehlo);
            }
            // one write: the whole envelope, DATA, the content, and QUIT
            out.write(concat(ascii("MAIL FROM:<a@example.test> BODY=8BITMIME SIZE=100\r\n"
                    + "RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net> NOTIFY=NEVER\r\nDATA\r\n"), wire,
                    ascii("QUIT\r\n")));
            out.flush();
            assertTrue(reply(in).startsWith("250 "));
            assertTrue(reply(in).startsWith("250 "));
            assertTrue(reply(in).startsWith("250 "));
            assertTrue(reply(in).startsWith("354 "));
            String queued = reply(in);
            assertTrue(queued.startsWith("250 2.0.0 "), queued);
            assertTrue(reply(in).startsWith("221 "));

            List<CapturedMessage> messages = mx.messages();
            assertEquals(1, messages.size());
            CapturedMessage m = messages.get(0);
            assertEquals("a@example.test", m.mailFrom());
            assertEquals(List.of("b@example.net", "c@example.net"), m.recipients());
            assertEquals("client.example.test", m.heloName());
            assertArrayEquals(message, m.data());
            assertTrue(m.file().startsWith(mailDir) && m.file().getFileName().toString().endsWith(".eml"));
            assertArrayEquals(message, Files.readAllBytes(m.file()));
            try (var files = Files.list(mailDir)) {
                assertEquals(List.of(m.file()), files.toList(), "no temporary file left");
            }
            mx.clear();
            assertTrue(mx.messages().isEmpty());
        }
    }

    @Test
    void scriptedRepliesAndSequencing() throws Exception {
        try (CaptureMx mx = CaptureMx.start(0, null);
             Socket socket = new Socket("127.0.0.1", mx.port())) {
            mx.setRcptReply(rcpt -> rcpt.startsWith("nobody@") ? "550 5.1.1 no such user" : null);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            reply(in);
            out.write(ascii("HELO client\r\nRCPT TO:<x@example.net>\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.net>\r\n"
                    + "DATA\r\nRCPT TO:<x@example.net>\r\nDATA\r\n"));
            assertTrue(reply(in).startsWith("250 "));
            assertTrue(reply(in).startsWith("503 "), "RCPT before MAIL");
            assertTrue(reply(in).startsWith("250 "));
            assertEquals("550 5.1.1 no such user", reply(in));
            assertTrue(reply(in).startsWith("554 "), "DATA without accepted recipients");
            assertTrue(reply(in).startsWith("250 "));
            assertTrue(reply(in).startsWith("354 "));
            mx.setDataReply(() -> "451 4.3.0 try again later");
            out.write(ascii("Subject: x\r\n\r\nbody\r\n.\r\n"));
            assertEquals("451 4.3.0 try again later", reply(in));
            assertTrue(mx.messages().isEmpty(), "a message answered 4xx is not kept");

            mx.setDataReply(null);
            out.write(ascii("MAIL FROM:<>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n"));
            reply(in);
            reply(in);
            reply(in);
            out.write(ascii("Subject: y\r\n\r\nbody\r\n.\r\nQUIT\r\n"));
            assertTrue(reply(in).startsWith("250 "));
            List<CapturedMessage> messages = mx.awaitMessages(1, Duration.ofSeconds(5));
            assertEquals("", messages.get(0).mailFrom());
            assertEquals("Subject: y\r\n\r\nbody\r\n", messages.get(0).dataAsString());
            assertNull(messages.get(0).file());
        }
    }

    /** SMTP dot-stuffing: a line (after CRLF) that starts with '.' gets another '.'. */
    private static byte[] stuffed(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean lineStart = true;
        for (int i = 0; i < message.length; i++) {
            if (lineStart && message[i] == '.') {
                out.write('.');
            }
            out.write(message[i]);
            lineStart = message[i] == '\n' && i > 0 && message[i - 1] == '\r';
        }
        return out.toByteArray();
    }

    /** One (possibly multi-line) reply. */
    private static String reply(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("connection closed after " + lines);
                }
                line.write(b);
            }
            String text = line.toString(StandardCharsets.UTF_8).replaceAll("\r$", "");
            lines.add(text);
            if (text.length() < 4 || text.charAt(3) != '-') {
                return String.join("\n", lines);
            }
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
