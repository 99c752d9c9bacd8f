package dev.relay.testkit.hostile;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A receiving mail server that attacks the client delivering to it, for tests of Relay's outbound SMTP against
 * hostile peers (issue #12). Listens on 127.0.0.1, port 0; every connection gets the same behaviour:
 * <ul>
 *   <li>{@link Mode#REPLY_FLOOD}: greets, then streams complete {@code 250} replies nobody asked for, as fast as
 *       the socket takes them, until the client goes away;</li>
 *   <li>{@link Mode#ENDLESS_MULTILINE}: a greeting that never ends ({@code 220-} continuation lines forever);</li>
 *   <li>{@link Mode#ONE_BYTE_PER_SECOND}: an honest dialogue, but every reply byte comes alone, one per
 *       {@code interval};</li>
 *   <li>{@link Mode#NEVER_ENDING_DATA_REPLY}: accepts MAIL, RCPT and the message, then answers the final dot with
 *       {@code 250-} continuation lines, one per {@code interval}, and never the last line;</li>
 *   <li>{@link Mode#TLS_HANDSHAKE_STALL}: offers STARTTLS, answers it with {@code 220}, then reads the client's
 *       handshake and never answers it;</li>
 *   <li>{@link Mode#DATA_NOT_READ}: answers DATA with {@code 354} and then stops reading: once the socket
 *       buffers are full, the client's write of a large message never finishes.</li>
 * </ul>
 * It counts connections and how many the client ended (closed or reset while the server was still talking or
 * waiting): a bounded client closes every one of them.
 *
 * <pre>
 * try (HostileMx mx = HostileMx.start(HostileMx.Mode.REPLY_FLOOD)) {
 *     ... deliver to 127.0.0.1:mx.port() ...
 *     assertThat(mx.closedByClient()).isEqualTo(mx.connections());
 * }
 * </pre>
 */
public final class HostileMx implements AutoCloseable {

    /** What the server does to its clients. */
    public enum Mode {
        REPLY_FLOOD, ENDLESS_MULTILINE, ONE_BYTE_PER_SECOND, NEVER_ENDING_DATA_REPLY, TLS_HANDSHAKE_STALL,
        DATA_NOT_READ
    }

    private static final byte[] FLOOD = "250 2.0.0 nobody asked for this\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_COMMAND = 64 * 1024;

    private final Mode mode;
    private final Duration interval;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closedByClient = new AtomicInteger();
    private final AtomicLong bytesSent = new AtomicLong();
    private volatile boolean closed;

    private HostileMx(Mode mode, Duration interval, ServerSocket server) {
        this.mode = mode;
        this.interval = interval;
        this.server = server;
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "hostile-mx-" + mode.name().toLowerCase(Locale.ROOT) + "-" + server.getLocalPort());
            t.setDaemon(true);
            return t;
        });
        threads.execute(this::accept);
    }

    /** Starts with an interval of one second (the pace of {@link Mode#ONE_BYTE_PER_SECOND}). */
    public static HostileMx start(Mode mode) {
        return start(mode, Duration.ofSeconds(1));
    }

    /**
     * @param interval pause between the bytes of {@link Mode#ONE_BYTE_PER_SECOND} and between the lines of
     *                 {@link Mode#NEVER_ENDING_DATA_REPLY}; tests make it short to stay quick
     */
    public static HostileMx start(Mode mode, Duration interval) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
            return new HostileMx(mode, interval, server);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Mode mode() {
        return mode;
    }

    /** Always {@code 127.0.0.1}. */
    public String host() {
        return server.getInetAddress().getHostAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Connections the client ended (EOF, reset, broken pipe) before this server stopped. */
    public int closedByClient() {
        return closedByClient.get();
    }

    /** Bytes written to all clients. */
    public long bytesSent() {
        return bytesSent.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
        threads.shutdownNow();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                open.add(socket);
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            switch (mode) {
                case REPLY_FLOOD -> flood(out);
                case ENDLESS_MULTILINE -> endlessGreeting(out);
                default -> dialogue(in, out);
            }
        } catch (IOException | InterruptedException e) {
            if (!closed) {
                closedByClient.incrementAndGet();
            }
        } finally {
            open.remove(socket);
        }
    }

    private void flood(OutputStream out) throws IOException {
        send(out, "220 hostile.test ESMTP\r\n");
        byte[] burst = new byte[FLOOD.length * 100];
        for (int i = 0; i < 100; i++) {
            System.arraycopy(FLOOD, 0, burst, i * FLOOD.length, FLOOD.length);
        }
        while (!closed) {
            out.write(burst);
            out.flush();
            bytesSent.addAndGet(burst.length);
        }
    }

    private void endlessGreeting(OutputStream out) throws IOException {
        byte[] line = "220-hostile.test still greeting you\r\n".getBytes(StandardCharsets.US_ASCII);
        while (!closed) {
            out.write(line);
            out.flush();
            bytesSent.addAndGet(line.length);
        }
    }

    /** An SMTP server that is honest up to the point its mode attacks. */
    private void dialogue(InputStream in, OutputStream out) throws IOException, InterruptedException {
        reply(out, "220 hostile.test ESMTP");
        while (!closed) {
            String line = readLine(in);
            if (line == null) {
                throw new IOException("client closed the connection");
            }
            String verb = (line.contains(" ") ? line.substring(0, line.indexOf(' ')) : line).toUpperCase(Locale.ROOT);
            switch (verb) {
                case "EHLO" -> reply(out, mode == Mode.TLS_HANDSHAKE_STALL
                        ? "250-hostile.test\r\n250-8BITMIME\r\n250 STARTTLS" : "250-hostile.test\r\n250 8BITMIME");
                case "HELO" -> reply(out, "250 hostile.test");
                case "MAIL", "RCPT", "RSET", "NOOP" -> reply(out, "250 2.0.0 ok");
                case "STARTTLS" -> {
                    reply(out, "220 2.0.0 go ahead");
                    swallow(in); // reads the ClientHello and everything after it, answers nothing
                    return;
                }
                case "DATA" -> {
                    reply(out, "354 go ahead");
                    if (mode == Mode.DATA_NOT_READ) {
                        holdUnread();
                        return;
                    }
                    while (true) {
                        String data = readLine(in);
                        if (data == null) {
                            throw new IOException("client closed the connection during DATA");
                        }
                        if (data.equals(".")) {
                            break;
                        }
                    }
                    if (mode == Mode.NEVER_ENDING_DATA_REPLY) {
                        endlessDataReply(out);
                        return;
                    }
                    reply(out, "250 2.0.0 queued");
                }
                case "QUIT" -> {
                    reply(out, "221 2.0.0 bye");
                    return;
                }
                default -> reply(out, "502 5.5.2 not here");
            }
        }
    }

    private void endlessDataReply(OutputStream out) throws IOException, InterruptedException {
        while (!closed) {
            send(out, "250-2.0.0 still thinking about your message\r\n");
            pause();
        }
    }

    /** Reads nothing more, until this server is closed (the connection then counts as not closed by the client). */
    private void holdUnread() throws InterruptedException {
        while (!closed) {
            pause();
        }
    }

    private void swallow(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        while (!closed) {
            if (in.read(buffer) < 0) {
                throw new IOException("client closed the connection during the handshake");
            }
        }
    }

    /** A reply (lines separated by CRLF), trickled one byte per interval in {@link Mode#ONE_BYTE_PER_SECOND}. */
    private void reply(OutputStream out, String text) throws IOException, InterruptedException {
        String wire = text + "\r\n";
        if (mode != Mode.ONE_BYTE_PER_SECOND) {
            send(out, wire);
            return;
        }
        for (byte b : wire.getBytes(StandardCharsets.US_ASCII)) {
            out.write(b);
            out.flush();
            bytesSent.incrementAndGet();
            pause();
        }
    }

    private void send(OutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        out.write(bytes);
        out.flush();
        bytesSent.addAndGet(bytes.length);
    }

    private void pause() throws InterruptedException {
        Thread.sleep(Math.max(1, interval.toMillis()));
    }

    /** A line without CRLF; null at EOF. Lines longer than 64 KiB are cut (this server is not under test). */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] raw = line.toByteArray();
                int length = raw.length > 0 && raw[raw.length - 1] == '\r' ? raw.length - 1 : raw.length;
                return new String(raw, 0, length, StandardCharsets.ISO_8859_1);
            }
            if (line.size() < MAX_COMMAND) {
                line.write(b);
            }
        }
        return null;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
