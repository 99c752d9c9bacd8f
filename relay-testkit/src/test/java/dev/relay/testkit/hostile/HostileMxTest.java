package dev.relay.testkit.hostile;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hostile MX does what its modes promise, and stops when the sender goes away. */
class HostileMxTest {

    @Test
    void replyFloodStreamsCompleteRepliesNobodyAskedFor() throws Exception {
        try (HostileMx mx = HostileMx.start(HostileMx.Mode.REPLY_FLOOD);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), mx.port())) {
            BufferedReader in = reader(socket);
            assertStartsWith("220 ", in.readLine());
            for (int i = 0; i < 10_000; i++) { // unasked: the client has not even said EHLO
                assertEquals("250 2.0.0 nobody asked for this", in.readLine());
            }
            assertEquals(1, mx.connections());
        }
    }

    @Test
    void endlessMultilineNeverSendsTheLastLine() throws Exception {
        try (HostileMx mx = HostileMx.start(HostileMx.Mode.ENDLESS_MULTILINE);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), mx.port())) {
            BufferedReader in = reader(socket);
            for (int i = 0; i < 10_000; i++) { // a greeting whose last line never comes
                assertStartsWith("220-", in.readLine());
            }
        }
    }

    @Test
    void tlsHandshakeStallAnswersStartTlsThenNothing() throws Exception {
        try (HostileMx mx = HostileMx.start(HostileMx.Mode.TLS_HANDSHAKE_STALL);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), mx.port())) {
            BufferedReader in = reader(socket);
            assertStartsWith("220 ", in.readLine());
            send(socket, "EHLO sender.test");
            boolean startTls = false;
            String line;
            do {
                line = in.readLine();
                startTls |= line != null && line.substring(4).equals("STARTTLS");
            } while (line != null && line.startsWith("250-"));
            assertStartsWith("250 ", line);
            assertTrue(startTls, "STARTTLS offered");
            send(socket, "STARTTLS");
            assertStartsWith("220 ", in.readLine());
            socket.setSoTimeout(1500);
            InputStream raw = socket.getInputStream();
            send(socket, "\u0016\u0003\u0001"); // the start of a ClientHello
            assertTrue(catchTimeout(raw));
        }
    }

    @Test
    void closingStopsEveryAttack() throws Exception {
        HostileMx mx = HostileMx.start(HostileMx.Mode.REPLY_FLOOD);
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), mx.port());
        try (socket) {
            assertStartsWith("220 ", reader(socket).readLine());
            mx.close();
            socket.setSoTimeout(5000);
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[8192];
            int n;
            do {
                n = in.read(buf); // drains what was sent before the close, then end of stream
            } while (n >= 0);
        }
    }

    private static void assertStartsWith(String prefix, String line) {
        assertTrue(line != null && line.startsWith(prefix), "expected " + prefix + "..., got " + line);
    }

    private static boolean catchTimeout(InputStream in) throws Exception {
        try {
            return in.read() < -1; // never true: a read either times out or returns
        } catch (java.net.SocketTimeoutException e) {
            return true;
        }
    }

    private static BufferedReader reader(Socket socket) throws Exception {
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void send(Socket socket, String line) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
