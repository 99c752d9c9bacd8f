package dev.relay.testkit.hostile;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A receiving mail server that attacks the sender, for tests of the delivery service against hostile MXs: it floods
 * replies nobody asked for, sends a multi-line reply that never ends, answers one byte per second, never finishes
 * its reply to the end of DATA, or stalls the TLS handshake after {@code 220} to STARTTLS.
 *
 * <p>Bounded and self-stopping: loopback only (127.0.0.1, an ephemeral port), at most {@value #MAX_CONNECTIONS}
 * connections at once (more are closed at once), each attacked for at most {@value #MAX_SECONDS_PER_CONNECTION} s
 * and {@value #MAX_BYTES_PER_CONNECTION} bytes; a sender that closes ends its connection's attack. It never accepts
 * a message, so nothing is delivered to it.
 */
public final class HostileMx implements AutoCloseable {

    /** What the server does to the sender. */
    public enum Mode {
        /** Greeting, EHLO reply, then complete {@code 250} replies streamed as fast as the sender reads them. */
        REPLY_FLOOD,
        /** Greeting, then an EHLO reply whose {@code 250-} continuation lines never end, as fast as read. */
        ENDLESS_MULTILINE,
        /** Every byte it sends (greeting and replies) one per second. */
        ONE_BYTE_PER_SECOND,
        /** A normal dialogue up to the end of DATA, then {@code 250-} continuation lines, one per 100 ms, forever. */
        NEVER_ENDING_DATA_REPLY,
        /** Offers STARTTLS, answers {@code 220}, then neither reads nor writes (the handshake never completes). */
        TLS_HANDSHAKE_STALL
    }

    static final int MAX_CONNECTIONS = 32;
    static final long MAX_SECONDS_PER_CONNECTION = 600;
    static final long MAX_BYTES_PER_CONNECTION = 8L * 1024 * 1024 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};

    private final Mode mode;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong bytesSent = new AtomicLong();
    private volatile boolean closed;

    private HostileMx(Mode mode) throws IOException {
        this.mode = mode;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "hostile-mx-" + mode + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        threads.execute(this::acceptLoop);
    }

    /** Starts a hostile MX on 127.0.0.1 and an ephemeral {@link #port()}. */
    public static HostileMx start(Mode mode) {
        try {
            return new HostileMx(mode);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on loopback", e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    public Mode mode() {
        return mode;
    }

    /** Connections accepted so far (each an attack). */
    public int connections() {
        return connections.get();
    }

    /** Bytes written to senders so far. */
    public long bytesSent() {
        return bytesSent.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        open.forEach(HostileMx::closeQuietly);
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (open.size() >= MAX_CONNECTIONS) {
                closeQuietly(socket);
                continue;
            }
            open.add(socket);
            connections.incrementAndGet();
            threads.execute(() -> {
                try {
                    attack(socket);
                } catch (IOException e) {
                    // the sender gave up on us: the attack on this connection is over
                } finally {
                    open.remove(socket);
                    closeQuietly(socket);
                }
            });
        }
    }

    private void attack(Socket socket) throws IOException {
        socket.setSoTimeout((int) Duration.ofSeconds(MAX_SECONDS_PER_CONNECTION).toMillis());
        Session s = new Session(socket);
        switch (mode) {
            case REPLY_FLOOD -> {
                s.send("220 flood.hostile.test ESMTP");
                s.readLine(); // EHLO
                s.send("250-flood.hostile.test\r\n250 PIPELINING");
                s.stream("250 2.0.0 ok\r\n");
            }
            case ENDLESS_MULTILINE -> {
                s.send("220 multiline.hostile.test ESMTP");
                s.readLine(); // EHLO
                s.stream("250-multiline.hostile.test and more of it\r\n");
            }
            case ONE_BYTE_PER_SECOND -> dialogue(s, Duration.ofSeconds(1), false);
            case NEVER_ENDING_DATA_REPLY -> dialogue(s, Duration.ZERO, true);
            case TLS_HANDSHAKE_STALL -> {
                s.send("220 stall.hostile.test ESMTP");
                s.readLine(); // EHLO
                s.send("250-stall.hostile.test\r\n250 STARTTLS");
                String command = s.readLine();
                while (command != null && !command.toUpperCase().startsWith("STARTTLS")) {
                    s.send(command.toUpperCase().startsWith("QUIT") ? "221 2.0.0 bye" : "530 5.7.0 STARTTLS first");
                    command = s.readLine();
                }
                if (command != null) {
                    s.send("220 2.0.0 go ahead");
                    s.holdUntilClosed();
                }
            }
        }
    }

    /** Answers like a plain MX, each byte after {@code perByte}; the end-of-DATA reply never ends if asked. */
    private void dialogue(Session s, Duration perByte, boolean endlessDataReply) throws IOException {
        s.sendSlowly("220 slow.hostile.test ESMTP", perByte);
        String line;
        while ((line = s.readLine()) != null) {
            String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase() : line.toUpperCase();
            switch (verb) {
                case "EHLO", "HELO" -> s.sendSlowly("250 hostile.test", perByte);
                case "MAIL", "RCPT", "RSET", "NOOP" -> s.sendSlowly("250 2.0.0 ok", perByte);
                case "QUIT" -> {
                    s.sendSlowly("221 2.0.0 bye", perByte);
                    return;
                }
                case "DATA" -> {
                    s.sendSlowly("354 go ahead", perByte);
                    s.skipData();
                    if (endlessDataReply) {
                        s.dribble("250-2.0.0 still thinking about it\r\n", Duration.ofMillis(100));
                        return;
                    }
                    s.sendSlowly("451 4.3.0 not today", perByte); // never accepts: nothing is delivered here
                }
                default -> s.sendSlowly("502 5.5.1 no", perByte);
            }
        }
    }

    /** One attacked connection: bounded line reading, and writes that count against the per-connection bound. */
    private final class Session {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final long deadline = System.nanoTime() + Duration.ofSeconds(MAX_SECONDS_PER_CONNECTION).toNanos();
        private long sent;

        Session(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        boolean over() {
            return closed || sent >= MAX_BYTES_PER_CONNECTION || System.nanoTime() > deadline;
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
            sent += bytes.length;
            bytesSent.addAndGet(bytes.length);
        }

        void send(String reply) throws IOException {
            write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }

        void sendSlowly(String reply, Duration perByte) throws IOException {
            if (perByte.isZero()) {
                send(reply);
                return;
            }
            for (byte b : (reply + "\r\n").getBytes(StandardCharsets.US_ASCII)) {
                if (over()) {
                    throw new SocketException("bound reached");
                }
                write(new byte[] {b});
                pause(perByte);
            }
        }

        /** {@code unit} repeated in 64 KiB writes until the sender closes or a bound is reached. */
        void stream(String unit) throws IOException {
            byte[] one = unit.getBytes(StandardCharsets.US_ASCII);
            byte[] block = new byte[(65536 / one.length) * one.length];
            for (int i = 0; i < block.length; i += one.length) {
                System.arraycopy(one, 0, block, i, one.length);
            }
            while (!over()) {
                write(block);
            }
        }

        /** {@code unit} every {@code every} until the sender closes or a bound is reached. */
        void dribble(String unit, Duration every) throws IOException {
            byte[] bytes = unit.getBytes(StandardCharsets.US_ASCII);
            while (!over()) {
                write(bytes);
                pause(every);
            }
        }

        /** Neither reads nor writes; returns when the sender closes (a read of -1) or a bound is reached. */
        void holdUntilClosed() throws IOException {
            socket.setSoTimeout(1000);
            while (!over()) {
                try {
                    if (in.read() < 0) {
                        return;
                    }
                    // a ClientHello byte: read and ignore, the handshake never gets an answer
                } catch (SocketTimeoutException e) {
                    // still there
                }
            }
        }

        /** A command line without its CRLF (at most 4 KiB kept), or null at end of stream. */
        String readLine() throws IOException {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1
                            : line.length();
                    return line.substring(0, end);
                }
                if (line.length() < 4096) {
                    line.append((char) b);
                }
            }
            return null;
        }

        /** Reads message data up to and including CRLF.CRLF, keeping nothing. */
        void skipData() throws IOException {
            int state = 2; // as if after CRLF: ".\r\n" right away ends it
            int b;
            while ((b = in.read()) >= 0) {
                state = switch (state) {
                    case 0 -> b == '\r' ? 1 : 0;
                    case 1 -> b == '\n' ? 2 : b == '\r' ? 1 : 0;
                    case 2 -> b == '.' ? 3 : b == '\r' ? 1 : 0;
                    case 3 -> b == '\r' ? 4 : 0;
                    case 4 -> b == '\n' ? 5 : b == '\r' ? 1 : 0;
                    default -> 0;
                };
                if (state == 5) {
                    return;
                }
            }
            throw new SocketException("closed during DATA");
        }

        private void pause(Duration d) throws IOException {
            try {
                Thread.sleep(d.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SocketException("stopped");
            }
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
