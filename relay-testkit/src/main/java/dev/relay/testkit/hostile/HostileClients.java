package dev.relay.testkit.hostile;

import dev.relay.testkit.SmtpTestClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SMTP clients that attack an SMTP server the way hostile peers on the internet do, for whole-system tests that
 * show what Relay's ingress promises against them: its memory budget returns to zero, it never executes smuggled
 * commands, and honest clients keep being served while an attack runs.
 *
 * <p>Every attack is bounded twice (a count and a wall-clock limit), stops by itself, releases every socket it
 * opened, and connects only to the loopback interface (127.0.0.0/8: sources and target), so that a test cannot be
 * turned into a tool against anyone else. Each returns a {@link Result}: what the server answered and whether it
 * closed, so the test decides what was expected.
 */
public final class HostileClients {

    /** Longest reply line kept; a server that sends longer lines is not what these attacks are about. */
    private static final int MAX_LINE = 4096;
    /** Notable replies kept per result, so a result stays small whatever the server does. */
    private static final int MAX_NOTES = 12;
    private static final SSLContext TRUST_ALL = SmtpTestClient.trustAll();

    private final int port;
    private final Duration readTimeout;
    /** The local address attacks connect from; null for the system's choice. */
    private final InetAddress from;

    private HostileClients(int port, Duration readTimeout, InetAddress from) {
        this.port = port;
        this.readTimeout = readTimeout;
        this.from = from;
    }

    /** Attacks on 127.0.0.1:{@code port}; a reply that takes longer than 15 s counts as none. */
    public static HostileClients against(int port) {
        return new HostileClients(port, Duration.ofSeconds(15), null);
    }

    /**
     * The same attacks, connecting from {@code source} (a loopback address such as 127.0.2.1), so that a test can
     * tell the attacker's per-client limits from those of honest clients on 127.0.0.1.
     */
    public HostileClients from(InetAddress source) {
        return new HostileClients(port, readTimeout, source);
    }

    /**
     * What one attack saw.
     *
     * @param attack         the attack's name
     * @param connections    connections opened (including those the server refused or closed)
     * @param rounds         rounds or commands of the attack that were sent
     * @param replies        first reply line of each reply, counted by reply code ({@code "452"}), plus
     *                       {@code "closed"} for connections the server closed and {@code "silent"} for replies
     *                       that never came within the read timeout
     * @param breaches       what the server must never do and did, as this attack sees it (see each attack)
     * @param notes          a few notable reply lines and events, in order, at most {@value #MAX_NOTES}
     */
    public record Result(String attack, int connections, int rounds, Map<String, Integer> replies, int breaches,
                         List<String> notes) {

        /** How many replies started with {@code code} (e.g. "452", "closed"). */
        public int count(String code) {
            return replies.getOrDefault(code, 0);
        }

        @Override
        public String toString() {
            return attack + ": " + connections + " connection(s), " + rounds + " round(s), replies " + replies
                    + ", breaches " + breaches + (notes.isEmpty() ? "" : ", notes " + notes);
        }
    }

    /** Collects a {@link Result}; not shared between threads except where synchronized. */
    private static final class Tally {
        private final String attack;
        private final Map<String, Integer> replies = new TreeMap<>();
        private final List<String> notes = new ArrayList<>();
        private int connections;
        private int rounds;
        private int breaches;

        Tally(String attack) {
            this.attack = attack;
        }

        synchronized void reply(String reply) {
            String code = reply == null ? "silent" : reply.startsWith("<closed>") ? "closed"
                    : reply.length() >= 3 ? reply.substring(0, 3) : reply;
            replies.merge(code, 1, Integer::sum);
        }

        synchronized void note(String note) {
            if (notes.size() < MAX_NOTES) {
                notes.add(note.length() > 200 ? note.substring(0, 200) + "..." : note);
            }
        }

        synchronized int count(String code) {
            return replies.getOrDefault(code, 0);
        }

        synchronized void connection() {
            connections++;
        }

        synchronized void round() {
            rounds++;
        }

        synchronized void breach(String what) {
            if (++breaches <= 3) {
                note("BREACH " + what);
            }
        }

        synchronized Result result() {
            return new Result(attack, connections, rounds, Map.copyOf(replies), breaches, List.copyOf(notes));
        }
    }

    // ---- BDAT/EHLO churn ---------------------------------------------------------------------------------------

    /**
     * Opens and abandons BDAT transactions: {@code MAIL}, {@code RCPT TO:<recipient>}, {@code BDAT 1} with one
     * byte, then {@code EHLO} (which must reset the transaction and release what it held), {@code rounds} times or
     * until {@code maxTime}, reconnecting (at most 10 times) when the server closes. Each reply is awaited, so this
     * is not pipelining: every command is legal. A breach is a {@code 452} (memory exhausted) at {@code BDAT}: the
     * churn has used up the server's budget.
     */
    public Result bdatEhloChurn(String recipient, int rounds, Duration maxTime) {
        Tally tally = new Tally("bdat-ehlo-churn");
        long deadline = System.nanoTime() + maxTime.toNanos();
        int reconnects = 0;
        Conn conn = null;
        try {
            for (int i = 0; i < rounds && System.nanoTime() < deadline; i++) {
                if (conn == null) {
                    if (reconnects++ > 10) {
                        tally.note("gave up after 10 reconnects");
                        break;
                    }
                    conn = open(tally, null);
                    if (!greetAndEhlo(conn, tally, "churn.hostile.test")) {
                        conn = closeQuietly(conn);
                        continue;
                    }
                }
                tally.round();
                String mail = conn.command("MAIL FROM:<churn-" + i + "@hostile.test>");
                String rcpt = mail != null && mail.startsWith("250") ? conn.command("RCPT TO:<" + recipient + ">")
                        : mail;
                String bdat = rcpt != null && rcpt.startsWith("250") ? conn.commandWithData("BDAT 1", "x") : rcpt;
                tally.reply(bdat);
                if (bdat != null && bdat.startsWith("452")) {
                    tally.breach("round " + i + ": " + firstLine(bdat));
                }
                String ehlo = bdat == null || bdat.startsWith("<closed>") ? bdat : conn.command("EHLO churn.hostile.test");
                if (ehlo == null || ehlo.startsWith("<closed>") || !ehlo.startsWith("250")) {
                    tally.note("round " + i + ": " + (ehlo == null ? "no reply" : firstLine(ehlo)));
                    conn = closeQuietly(conn);
                }
            }
        } catch (IOException e) {
            tally.note("error: " + e);
        } finally {
            closeQuietly(conn);
        }
        return tally.result();
    }

    // ---- slow hold ---------------------------------------------------------------------------------------------

    /**
     * Slow-hold: {@code connections} clients each send a {@code messageBytes} message at once through DATA but not
     * its final dot, then trickle one byte every {@code trickleEvery}, so that the average rate since the start of
     * the message stays high while the message's memory is held; each gives up (closes without the dot) after
     * {@code holdFor} or when the server closes. A breach is a holder still open (not closed by the server) when
     * the hold ends. {@code notes} name the server's closing replies.
     */
    public Result slowHold(String mailFrom, String recipient, int connections, int messageBytes,
                           Duration trickleEvery, Duration holdFor) {
        Tally tally = new Tally("slow-hold");
        List<Conn> holders = new ArrayList<>();
        long deadline = System.nanoTime() + holdFor.toNanos();
        try {
            for (int c = 0; c < connections; c++) {
                Conn conn;
                try {
                    conn = open(tally, null);
                } catch (IOException e) {
                    tally.note("connect " + c + ": " + e.getMessage());
                    continue;
                }
                tally.round();
                if (!greetAndEhlo(conn, tally, "hold-" + c + ".hostile.test")) {
                    closeQuietly(conn);
                    continue;
                }
                String reply = conn.command("MAIL FROM:<" + mailFrom + ">");
                reply = reply != null && reply.startsWith("250") ? conn.command("RCPT TO:<" + recipient + ">") : reply;
                reply = reply != null && reply.startsWith("250") ? conn.command("DATA") : reply;
                tally.reply(reply);
                if (reply == null || !reply.startsWith("354")) {
                    tally.note("holder " + c + ": " + (reply == null ? "no reply" : firstLine(reply)));
                    closeQuietly(conn);
                    continue;
                }
                conn.write(messageBody(messageBytes));
                holders.add(conn);
            }
            // trickle: one byte per holder every trickleEvery; a reply now is the server giving up on us
            while (System.nanoTime() < deadline && !holders.isEmpty()) {
                sleep(trickleEvery);
                for (int i = holders.size() - 1; i >= 0; i--) {
                    Conn conn = holders.get(i);
                    String early = conn.pollReply();
                    boolean gone = early != null;
                    if (!gone) {
                        try {
                            conn.write(new byte[] {'x'});
                        } catch (IOException e) {
                            gone = true;
                            early = "<closed>";
                        }
                    }
                    if (gone) {
                        tally.reply(early);
                        tally.note("holder closed by the server: " + firstLine(early));
                        closeQuietly(conn);
                        holders.remove(i);
                    }
                }
            }
            for (Conn conn : holders) {
                tally.breach("holder still open after " + holdFor.toSeconds() + " s");
                closeQuietly(conn);
            }
        } catch (IOException e) {
            tally.note("error: " + e);
        } finally {
            holders.forEach(HostileClients::closeQuietly);
        }
        return tally.result();
    }

    /** {@code bytes} of header and body in 78-character lines with CRLF, not ending with the final dot. */
    private static byte[] messageBody(int bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes + 100);
        out.writeBytes("From: <hold@hostile.test>\r\nSubject: slow hold\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] line = ("y".repeat(76) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        while (out.size() + line.length <= bytes) {
            out.writeBytes(line);
        }
        return out.toByteArray();
    }

    // ---- pipelining flood --------------------------------------------------------------------------------------

    /**
     * After EHLO, writes {@code commands} pipelined {@code MAIL FROM}/{@code RSET} pairs (legal in a pipelined
     * group) in one burst without reading a reply, with a small receive buffer (8 KiB, so that unread replies stay
     * on the server's side), for at most {@code maxTime}; a writer that makes no progress for 5 s means the server
     * stopped reading (back-pressure). Afterwards reads what the server answered until it closes or goes quiet.
     * A server must bound what it buffers for such a client: close it with an error, or read no further. The breach
     * is a hint, not proof: the writer finished every command and the server did not close, although its replies
     * (about 18 bytes each; with 500,000 commands more than the kernel's socket buffers hold) went unread. A client
     * cannot tell queued replies from commands still in the kernel's buffers, so judge memory on the server's side.
     */
    public Result pipeliningFlood(int commands, Duration maxTime) {
        Tally tally = new Tally("pipelining-flood");
        Conn conn = null;
        try {
            conn = open(tally, null, 8192);
            if (!greetAndEhlo(conn, tally, "flood.hostile.test")) {
                return tally.result();
            }
            byte[] pair = "MAIL FROM:<flood@hostile.test>\r\nRSET\r\n".getBytes(StandardCharsets.US_ASCII);
            int pairsPerWrite = 512;
            byte[] burst = new byte[pair.length * pairsPerWrite];
            for (int i = 0; i < pairsPerWrite; i++) {
                System.arraycopy(pair, 0, burst, i * pair.length, pair.length);
            }
            Conn target = conn;
            AtomicLong sent = new AtomicLong();
            CountDownLatch done = new CountDownLatch(1);
            Thread writer = new Thread(() -> {
                try {
                    for (int n = 0; n < commands; n += 2 * pairsPerWrite) {
                        target.write(burst);
                        sent.addAndGet(2L * pairsPerWrite);
                    }
                } catch (IOException e) {
                    tally.note("writer stopped: " + e.getMessage());
                } finally {
                    done.countDown();
                }
            }, "hostile-pipelining-flood");
            writer.setDaemon(true);
            writer.start();
            long until = System.nanoTime() + maxTime.toNanos();
            long lastSent = -1;
            while (!done.await(5, TimeUnit.SECONDS) && System.nanoTime() < until && sent.get() != lastSent) {
                lastSent = sent.get();
            }
            boolean completed = done.getCount() == 0 && sent.get() >= commands;
            if (done.getCount() > 0) {
                tally.note("server stopped reading after " + sent.get() + " commands (back-pressure)");
            }
            tally.rounds = (int) Math.min(Integer.MAX_VALUE, sent.get());
            // what came back, bounded by count and by time
            long readUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            for (int i = 0; i < 2 * commands && System.nanoTime() < readUntil; i++) {
                String reply = conn.reply(Duration.ofSeconds(2));
                if (reply == null) {
                    break;
                }
                tally.reply(reply);
                if (!reply.startsWith("250")) {
                    tally.note(firstLine(reply));
                }
                if (reply.startsWith("<closed>")) {
                    break;
                }
            }
            if (completed && tally.count("closed") == 0) {
                tally.breach("the server read all " + sent.get() + " commands while none of its replies was read");
            }
            closeQuietly(conn);
            conn = null;
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (IOException e) {
            tally.note("error: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(conn);
        }
        return tally.result();
    }

    // ---- connections that never speak --------------------------------------------------------------------------

    /**
     * Opens {@code connections} connections that never send a byte, spread over {@code sources} loopback source
     * addresses (127.0.1.1, 127.0.1.2, ...; as a botnet spreads over many addresses, so that per-client limits
     * alone do not answer it), keeps them for {@code holdFor} reading what the server sends (bounded per
     * connection), then closes them. Replies counts the first reply of each connection ({@code "220"} greeting,
     * {@code "421"} refusal), {@code "closed"} for connections the server closed, {@code "silent"} for those that
     * got nothing. No breach is judged here.
     */
    public Result silentConnections(int connections, int sources, Duration holdFor) {
        if (sources < 1 || sources > 250) {
            throw new IllegalArgumentException("sources must be 1..250");
        }
        Tally tally = new Tally("silent-connections");
        List<SocketChannel> channels = new ArrayList<>();
        Map<SocketChannel, ByteArrayOutputStream> seen = new HashMap<>();
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < connections; i++) {
                InetAddress source = InetAddress.getByAddress(new byte[] {127, 0, 1, (byte) (1 + i % sources)});
                SocketChannel channel = SocketChannel.open();
                channels.add(channel);
                try {
                    channel.bind(new InetSocketAddress(source, 0));
                    channel.socket().connect(target(), 10_000);
                    tally.connection();
                    channel.configureBlocking(false);
                    channel.register(selector, SelectionKey.OP_READ);
                    seen.put(channel, new ByteArrayOutputStream());
                } catch (IOException e) {
                    tally.reply("<closed>");
                    tally.note("connect " + i + ": " + e.getMessage());
                    closeQuietly(channel);
                }
            }
            tally.rounds = tally.connections;
            ByteBuffer buffer = ByteBuffer.allocate(1024);
            long deadline = System.nanoTime() + holdFor.toNanos();
            while (System.nanoTime() < deadline) {
                selector.select(250);
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel channel = (SocketChannel) key.channel();
                    buffer.clear();
                    int n;
                    try {
                        n = channel.read(buffer);
                    } catch (IOException e) {
                        n = -1;
                    }
                    ByteArrayOutputStream got = seen.get(channel);
                    if (n > 0 && got.size() < 1024) {
                        got.write(buffer.array(), 0, Math.min(n, 1024 - got.size()));
                    }
                    if (n < 0) {
                        key.cancel();
                        got.write('\n');
                        got.writeBytes("<closed>".getBytes(StandardCharsets.US_ASCII));
                        closeQuietly(channel);
                    }
                }
                selector.selectedKeys().clear();
            }
            for (ByteArrayOutputStream got : seen.values()) {
                String text = got.toString(StandardCharsets.US_ASCII);
                tally.reply(text.isEmpty() ? null : text);
                if (text.contains("<closed>")) {
                    tally.reply("<closed>");
                }
                if (!text.startsWith("220")) {
                    tally.note(firstLine(text.isEmpty() ? "silent" : text));
                }
            }
        } catch (IOException e) {
            tally.note("error: " + e);
        } finally {
            channels.forEach(HostileClients::closeQuietly);
        }
        return tally.result();
    }

    // ---- bare LF command smuggling -----------------------------------------------------------------------------

    /**
     * Command smuggling through a bare LF: sends {@code RSET<LF>MAIL FROM:<mailFrom><CR><LF>} as one line, collects
     * the replies, then sends {@code RCPT TO:<recipient>}. If the text after the bare LF had been executed as a
     * command, a transaction exists and the RCPT is accepted: that is the breach (also counted when a {@code 250}
     * for the smuggled MAIL shows). A server that refuses the whole line answers once (5xx) and RCPT gets
     * {@code 503}; closing the connection is fine too.
     */
    public Result bareLfSmuggling(String mailFrom, String recipient) {
        Tally tally = new Tally("bare-lf-smuggling");
        Conn conn = null;
        try {
            conn = open(tally, null);
            if (!greetAndEhlo(conn, tally, "smuggle.hostile.test")) {
                return tally.result();
            }
            tally.round();
            conn.write(("RSET\nMAIL FROM:<" + mailFrom + ">\r\n").getBytes(StandardCharsets.US_ASCII));
            boolean smuggled = false;
            for (int i = 0; i < 3; i++) { // one line must get one reply; more are the smuggled command's
                String reply = conn.reply(i == 0 ? readTimeout : Duration.ofSeconds(2));
                if (reply == null) {
                    break;
                }
                tally.reply(reply);
                tally.note("smuggling line: " + firstLine(reply));
                smuggled |= reply.startsWith("250 2.1.0") || reply.contains("Sender") && reply.startsWith("250");
                if (reply.startsWith("<closed>")) {
                    return finish(tally, smuggled);
                }
            }
            String rcpt = conn.command("RCPT TO:<" + recipient + ">");
            tally.reply(rcpt);
            tally.note("RCPT after it: " + (rcpt == null ? "no reply" : firstLine(rcpt)));
            smuggled |= rcpt != null && rcpt.startsWith("250");
            return finish(tally, smuggled);
        } catch (IOException e) {
            tally.note("error: " + e);
            return tally.result();
        } finally {
            closeQuietly(conn);
        }
    }

    private static Result finish(Tally tally, boolean smuggled) {
        if (smuggled) {
            tally.breach("the command after a bare LF was executed");
        }
        return tally.result();
    }

    // ---- endless AUTH ------------------------------------------------------------------------------------------

    /**
     * An AUTH line that never ends: after STARTTLS (when {@code startTls}) and EHLO, sends {@code AUTH PLAIN }
     * followed by base64 text without a line ending, up to {@code maxBytes} or {@code maxTime}, while watching for
     * the server's answer. A server must bound a command line: answer (500 5.5.6 or similar) and close, or close.
     * A breach is a server that took all {@code maxBytes} without answering or closing.
     */
    public Result endlessAuth(boolean startTls, long maxBytes, Duration maxTime) {
        Tally tally = new Tally("endless-auth");
        Conn conn = null;
        try {
            conn = open(tally, null);
            if (!greetAndEhlo(conn, tally, "auth.hostile.test")) {
                return tally.result();
            }
            if (startTls) {
                String reply = conn.command("STARTTLS");
                tally.reply(reply);
                if (reply == null || !reply.startsWith("220")) {
                    tally.note("STARTTLS: " + (reply == null ? "no reply" : firstLine(reply)));
                    return tally.result();
                }
                conn.startTls(port);
                String ehlo = conn.command("EHLO auth.hostile.test");
                if (ehlo == null || !ehlo.startsWith("250")) {
                    tally.reply(ehlo);
                    return tally.result();
                }
            }
            byte[] chunk = "QUFBQUFB".repeat(1024).getBytes(StandardCharsets.US_ASCII);
            conn.write("AUTH PLAIN ".getBytes(StandardCharsets.US_ASCII));
            long sent = 0;
            long deadline = System.nanoTime() + maxTime.toNanos();
            String answer = null;
            try {
                while (sent < maxBytes && System.nanoTime() < deadline) {
                    conn.write(chunk);
                    sent += chunk.length;
                    tally.round();
                    answer = conn.pollReply();
                    if (answer != null) {
                        break;
                    }
                }
            } catch (IOException e) {
                answer = "<closed>";
            }
            if (answer == null) {
                answer = conn.reply(Duration.ofSeconds(3));
            }
            tally.reply(answer);
            tally.note("after " + sent + " bytes: " + (answer == null ? "no answer" : firstLine(answer)));
            if (answer == null && sent >= maxBytes) {
                tally.breach("took " + sent + " bytes of one AUTH line without answering");
            }
        } catch (IOException e) {
            tally.note("error: " + e);
        } finally {
            closeQuietly(conn);
        }
        return tally.result();
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    private InetSocketAddress target() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private Conn open(Tally tally, InetAddress source) throws IOException {
        return open(tally, source, 0);
    }

    /** @param receiveBuffer SO_RCVBUF before connecting (0: the system's, autotuned), to keep replies unread */
    private Conn open(Tally tally, InetAddress source, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        try {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            InetAddress local = source != null ? source : from;
            if (local != null) {
                socket.bind(new InetSocketAddress(local, 0));
            }
            socket.connect(target(), 10_000);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        tally.connection();
        return new Conn(socket, readTimeout);
    }

    private static boolean greetAndEhlo(Conn conn, Tally tally, String name) throws IOException {
        String greeting = conn.reply(null);
        if (greeting == null || !greeting.startsWith("220")) {
            tally.reply(greeting);
            tally.note("greeting: " + (greeting == null ? "none" : firstLine(greeting)));
            return false;
        }
        String ehlo = conn.command("EHLO " + name);
        if (ehlo == null || !ehlo.startsWith("250")) {
            tally.reply(ehlo);
            tally.note("EHLO: " + (ehlo == null ? "no reply" : firstLine(ehlo)));
            return false;
        }
        return true;
    }

    static String firstLine(String reply) {
        int end = reply.indexOf('\n');
        return (end < 0 ? reply : reply.substring(0, end)).trim();
    }

    private static Conn closeQuietly(Conn conn) {
        if (conn != null) {
            conn.close();
        }
        return null;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One blocking client connection that reads replies as bytes, line by line, each line bounded. */
    private static final class Conn {
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private final Duration timeout;

        Conn(Socket socket, Duration timeout) throws IOException {
            this.timeout = timeout;
            use(socket);
        }

        private void use(Socket s) throws IOException {
            socket = s;
            socket.setSoTimeout((int) timeout.toMillis());
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        String command(String line) throws IOException {
            try {
                write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                return "<closed>";
            }
            return reply(null);
        }

        String commandWithData(String line, String data) throws IOException {
            try {
                write((line + "\r\n" + data).getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                return "<closed>";
            }
            return reply(null);
        }

        /** A whole (multi-line) reply; "<closed>" at end of stream; null if none came within the timeout. */
        String reply(Duration wait) throws IOException {
            if (wait != null) {
                socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
            }
            try {
                StringBuilder reply = new StringBuilder();
                String line;
                do {
                    line = line();
                    if (line == null) {
                        return reply.append("<closed>").toString();
                    }
                    reply.append(line).append('\n');
                } while (line.length() > 3 && line.charAt(3) == '-' && reply.length() < 16 * MAX_LINE);
                return reply.toString();
            } catch (SocketTimeoutException e) {
                return null;
            } catch (IOException e) {
                return "<closed>";
            } finally {
                socket.setSoTimeout((int) timeout.toMillis());
            }
        }

        /** A reply if one is already waiting (a server answering or closing mid-attack), else null at once. */
        String pollReply() throws IOException {
            try {
                if (!(socket instanceof SSLSocket) && in.available() == 0) {
                    socket.setSoTimeout(1);
                    int b;
                    try {
                        b = in.read();
                    } catch (SocketTimeoutException e) {
                        return null;
                    } finally {
                        socket.setSoTimeout((int) timeout.toMillis());
                    }
                    if (b < 0) {
                        return "<closed>";
                    }
                    String rest = reply(null);
                    return (char) b + (rest == null ? "" : rest);
                }
                return reply(Duration.ofMillis(1));
            } catch (IOException e) {
                return "<closed>";
            }
        }

        private String line() throws IOException {
            byte[] buf = new byte[MAX_LINE];
            int n = 0;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return n == 0 ? null : new String(buf, 0, n, StandardCharsets.US_ASCII);
                }
                if (b == '\n') {
                    int end = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
                    return new String(buf, 0, end, StandardCharsets.US_ASCII);
                }
                if (n < buf.length) {
                    buf[n++] = (byte) b;
                }
            }
        }

        void startTls(int port) throws IOException {
            SSLSocket tls = (SSLSocket) TRUST_ALL.getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
            tls.setUseClientMode(true);
            tls.setSoTimeout((int) timeout.toMillis());
            tls.startHandshake();
            use(tls);
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
