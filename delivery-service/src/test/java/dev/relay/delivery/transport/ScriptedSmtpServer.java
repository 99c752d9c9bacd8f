package dev.relay.delivery.transport;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small SMTP server for dialogue tests: listens on 127.0.0.1, port 0, answers from a script and records every
 * session — the commands, a C:/S: transcript, the DATA bytes exactly as they came over the wire and the same
 * bytes after removing the dot-stuffing (what a real receiver would store). Serves connections in parallel and
 * counts them (opened, most at the same time). A session is recorded when its connection ends.
 */
public final class ScriptedSmtpServer implements AutoCloseable {

    /** What one connection saw. */
    public record Session(List<String> commands, List<String> transcript, byte[] wireData, byte[] data,
                          boolean tls) {

        public String transcriptText() {
            return String.join("\n", transcript);
        }

        public boolean sent(String commandPrefix) {
            return commands.stream().anyMatch(c -> c.toUpperCase(Locale.ROOT)
                    .startsWith(commandPrefix.toUpperCase(Locale.ROOT)));
        }

        public String command(String verbPrefix) {
            return commands.stream().filter(c -> c.toUpperCase(Locale.ROOT)
                    .startsWith(verbPrefix.toUpperCase(Locale.ROOT))).findFirst().orElse(null);
        }
    }

    private String greeting = "220 scripted.test ESMTP";
    private String ehlo = "250-scripted.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760";
    private String helo = "250 scripted.test";
    private String mail = "250 2.1.0 ok";
    private final Map<String, String> rcpt = new HashMap<>();
    private String data = "354 go ahead";
    private String dataEnd = "250 2.0.0 queued as 42";
    private SSLContext tls;
    private boolean silent;
    private boolean holdRepliesUntilData;
    private long dataEndDelayMillis;
    private int closeAfterTransactions = -1;
    private String closingReply;
    private String starttlsInjection = "";
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger concurrent = new AtomicInteger();
    private final AtomicInteger maxConcurrent = new AtomicInteger();

    private final List<Session> sessions = new CopyOnWriteArrayList<>();
    private ServerSocket server;
    private Thread acceptor;

    public ScriptedSmtpServer greeting(String reply) {
        this.greeting = reply;
        return this;
    }

    /** The EHLO reply, lines separated by CRLF; null answers EHLO with 502 (an old HELO-only server). */
    public ScriptedSmtpServer ehlo(String reply) {
        this.ehlo = reply;
        return this;
    }

    public ScriptedSmtpServer mail(String reply) {
        this.mail = reply;
        return this;
    }

    public ScriptedSmtpServer rcpt(String recipient, String reply) {
        this.rcpt.put(recipient.toLowerCase(Locale.ROOT), reply);
        return this;
    }

    public ScriptedSmtpServer dataEnd(String reply) {
        this.dataEnd = reply;
        return this;
    }

    /** Offer STARTTLS (add it to the EHLO reply yourself) and do the handshake with this context. */
    public ScriptedSmtpServer tls(SSLContext context) {
        this.tls = context;
        return this;
    }

    /** Accept connections but never say anything (to test timeouts). */
    public ScriptedSmtpServer silent() {
        this.silent = true;
        return this;
    }

    /**
     * Answer MAIL and RCPT only once DATA has arrived too: a client that waits for each reply before the next
     * command (no PIPELINING) gets no answer and times out. Proves that the group went out without waiting.
     */
    public ScriptedSmtpServer holdRepliesUntilData() {
        this.holdRepliesUntilData = true;
        return this;
    }

    /** Take this long to answer the final dot (keeps connections open side by side). */
    public ScriptedSmtpServer dataEndDelay(long millis) {
        this.dataEndDelayMillis = millis;
        return this;
    }

    /**
     * After {@code transactions} completed transactions on one connection, answer the next command with
     * {@code reply} (null: say nothing) and close the connection, as a server does when an idle connection times
     * out.
     */
    public ScriptedSmtpServer closeAfter(int transactions, String reply) {
        this.closeAfterTransactions = transactions;
        this.closingReply = reply;
        return this;
    }

    /** Bytes sent in the same write as the 220 reply to STARTTLS, before the handshake (an injection attempt). */
    public ScriptedSmtpServer starttlsInjection(String bytes) {
        this.starttlsInjection = bytes;
        return this;
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** The most connections that were open at the same time. */
    public int maxConcurrent() {
        return maxConcurrent.get();
    }

    public ScriptedSmtpServer start() throws IOException {
        return start(InetAddress.getLoopbackAddress(), 0);
    }

    /** Listens on this address and port (several servers on one port, each on its own loopback address). */
    public ScriptedSmtpServer start(InetAddress address, int port) throws IOException {
        server = new ServerSocket(port, 50, address);
        acceptor = new Thread(this::acceptLoop, "scripted-smtp-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    public List<Session> sessions() {
        return Collections.unmodifiableList(sessions);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                Thread t = new Thread(() -> {
                    boolean[] counted = {true};
                    try (socket) {
                        socket.setSoTimeout(20_000);
                        serve(socket, counted);
                    } catch (IOException e) {
                        // the client went away: the session recorded so far stays
                    } finally {
                        if (counted[0]) {
                            concurrent.decrementAndGet();
                        }
                    }
                }, "scripted-smtp-conn-" + connections.get());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void serve(Socket plain, boolean[] counted) throws IOException {
        List<String> commands = new ArrayList<>();
        List<String> transcript = new ArrayList<>();
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream unstuffed = new ByteArrayOutputStream();
        boolean[] secured = {false};
        List<String> held = new ArrayList<>();
        int transactions = 0;
        try {
            if (silent) {
                plain.getInputStream().read();
                return;
            }
            Socket socket = plain;
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            reply(out, transcript, greeting);
            while (true) {
                String line = readLine(in);
                if (line == null) {
                    return;
                }
                commands.add(line);
                transcript.add("C: " + line);
                String upper = line.toUpperCase(Locale.ROOT);
                if (closeAfterTransactions >= 0 && transactions >= closeAfterTransactions) {
                    if (closingReply != null) {
                        reply(out, transcript, closingReply);
                    }
                    transcript.add("-- closed by server");
                    return;
                }
                if (holdRepliesUntilData && (upper.startsWith("MAIL FROM:") || upper.startsWith("RCPT TO:"))) {
                    held.add(upper.startsWith("MAIL") ? mail : rcptReply(line));
                    continue;
                }
                if (upper.equals("DATA") && !held.isEmpty()) {
                    for (String h : held) {
                        reply(out, transcript, h);
                    }
                    held.clear();
                }
                if (upper.startsWith("EHLO")) {
                    reply(out, transcript, ehlo == null ? "502 5.5.1 EHLO not implemented" : ehlo);
                } else if (upper.startsWith("HELO")) {
                    reply(out, transcript, helo);
                } else if (upper.equals("STARTTLS") && tls != null) {
                    reply(out, transcript, "220 2.0.0 ready to start TLS" + starttlsInjection);
                    SSLSocket ssl = (SSLSocket) tls.getSocketFactory()
                            .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                    ssl.setUseClientMode(false);
                    ssl.startHandshake();
                    socket = ssl;
                    in = socket.getInputStream();
                    out = socket.getOutputStream();
                    secured[0] = true;
                    transcript.add("-- TLS established");
                } else if (upper.startsWith("MAIL FROM:")) {
                    reply(out, transcript, mail);
                } else if (upper.startsWith("RCPT TO:")) {
                    reply(out, transcript, rcptReply(line));
                } else if (upper.equals("DATA")) {
                    reply(out, transcript, data);
                    readData(in, wire, unstuffed);
                    transcript.add("C: <" + unstuffed.size() + " octets>");
                    transcript.add("C: .");
                    if (dataEndDelayMillis > 0) {
                        try {
                            Thread.sleep(dataEndDelayMillis); // a slow server, not a test waiting
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    reply(out, transcript, dataEnd);
                    transactions++;
                } else if (upper.equals("QUIT")) {
                    // no longer counted as open before the client can see the 221 (and open the next connection)
                    concurrent.decrementAndGet();
                    counted[0] = false;
                    reply(out, transcript, "221 2.0.0 bye");
                    return;
                } else if (upper.equals("RSET") || upper.equals("NOOP")) {
                    reply(out, transcript, "250 2.0.0 ok");
                } else {
                    reply(out, transcript, "500 5.5.2 unknown command");
                }
            }
        } finally {
            sessions.add(new Session(List.copyOf(commands), List.copyOf(transcript), wire.toByteArray(),
                    unstuffed.toByteArray(), secured[0]));
        }
    }

    private String rcptReply(String line) {
        String address = line.substring(line.indexOf('<') + 1, line.lastIndexOf('>'));
        return rcpt.getOrDefault(address.toLowerCase(Locale.ROOT), "250 2.1.5 ok");
    }

    /** Reads DATA lines up to the lone dot, keeping the wire bytes and the un-stuffed bytes (RFC 5321 §4.5.2). */
    private static void readData(InputStream in, ByteArrayOutputStream wire, ByteArrayOutputStream unstuffed)
            throws IOException {
        while (true) {
            byte[] line = readRawLine(in);
            if (line == null) {
                throw new IOException("connection closed during DATA");
            }
            wire.write(line);
            if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
                return;
            }
            int skip = line.length > 0 && line[0] == '.' ? 1 : 0;
            unstuffed.write(line, skip, line.length - skip);
        }
    }

    private static void reply(OutputStream out, List<String> transcript, String reply) throws IOException {
        for (String line : reply.split("\r\n")) {
            transcript.add("S: " + line);
        }
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        byte[] raw = readRawLine(in);
        if (raw == null) {
            return null;
        }
        int end = raw.length;
        while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    /** One line including its CRLF (or bare LF), or null at end of stream. */
    private static byte[] readRawLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            line.write(b);
            if (b == '\n') {
                return line.toByteArray();
            }
        }
        return line.size() == 0 ? null : line.toByteArray();
    }
}
