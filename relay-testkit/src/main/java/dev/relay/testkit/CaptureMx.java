package dev.relay.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The "capture MX": an SMTP server that accepts every message and keeps it, for tests and local runs. It speaks what a
 * sending MTA needs (EHLO with PIPELINING, 8BITMIME, SMTPUTF8, SIZE, ENHANCEDSTATUSCODES; HELO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT), works on bytes so 8-bit content is kept exactly, and stores each message's data as received after
 * dot-unstuffing, in memory and (if a mail directory is given) as {@code <dir>/<timestamp>-<n>.eml}.
 *
 * <p>Lines end with CRLF only; DATA ends only at CRLF.CRLF. Replies can be overridden per recipient and for the end
 * of data, to script failures. Optionally ({@link #requireStartTlsAndAuthPlain}) it acts as a provider's submission
 * server: STARTTLS offered, AUTH PLAIN offered only after TLS, MAIL refused until AUTH succeeded.
 */
public final class CaptureMx implements AutoCloseable {

    public static final long MAX_SIZE = 52_428_800L;
    private static final int MAX_COMMAND_LINE = 64 * 1024;
    private static final int DATA_CHUNK = 64 * 1024;
    private static final String HOSTNAME = "capture-mx.relay.test";
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final ServerSocket server;
    private final Path mailDir;
    private final boolean keepInMemory;
    private final ExecutorService connections;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<CapturedMessage> messages = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();
    private volatile Function<String, String> rcptReply;
    private volatile Supplier<String> dataReply;
    private volatile long replyDelayMillis;
    private volatile boolean closed;
    private volatile boolean offerDsn;
    private final AtomicLong accepted = new AtomicLong();
    private final List<String> rcptArguments = new ArrayList<>();
    private volatile SSLContext startTls;
    private volatile String authUser;
    private volatile String authPassword;
    private final AtomicLong authSuccesses = new AtomicLong();
    private final AtomicLong authFailures = new AtomicLong();

    private CaptureMx(InetAddress bind, int port, Path mailDir, boolean keepInMemory) throws IOException {
        this.mailDir = mailDir == null ? null : mailDir.toAbsolutePath().normalize();
        this.keepInMemory = keepInMemory;
        if (this.mailDir != null) {
            Files.createDirectories(this.mailDir);
        }
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(bind, port), 100);
        AtomicInteger threads = new AtomicInteger();
        connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "capture-mx-" + server.getLocalPort() + "-conn-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        acceptor = new Thread(this::acceptLoop, "capture-mx-" + server.getLocalPort() + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Starts a capture MX on 127.0.0.1:{@code port} (0: an ephemeral port, see {@link #port()}), saving messages to
     * {@code mailDirOrNull} if that is not {@code null}, and keeping them in memory.
     */
    public static CaptureMx start(int port, Path mailDirOrNull) {
        return start(InetAddress.getLoopbackAddress(), port, mailDirOrNull);
    }

    /**
     * As {@link #start(int, Path)} on another local address, e.g. {@code 127.0.0.2}: several capture MXs can then
     * share one port, as MX hosts of different domains do (the sending side uses one remote SMTP port).
     */
    public static CaptureMx start(InetAddress bind, int port, Path mailDirOrNull) {
        try {
            return new CaptureMx(bind, port, mailDirOrNull, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind.getHostAddress() + ":" + port, e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    public Path mailDir() {
        return mailDir;
    }

    /** A snapshot of the messages received so far, oldest first. */
    public List<CapturedMessage> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** Waits until at least {@code count} messages were received; returns them. */
    public List<CapturedMessage> awaitMessages(int count, Duration timeout) {
        ManagedProcess.await(count + " message(s) at the capture MX on port " + port(), timeout, null,
                () -> messages().size() >= count);
        return messages();
    }

    /** Forgets the messages kept in memory (files stay). */
    public void clear() {
        synchronized (messages) {
            messages.clear();
        }
    }

    /**
     * Scripts the reply to RCPT: the function gets the recipient address (without brackets) and returns a full reply
     * line such as {@code "550 5.1.1 no such user"}, or {@code null} for the default {@code 250}. A 2xx reply accepts
     * the recipient. {@code null} restores the default for all recipients.
     */
    public void setRcptReply(Function<String, String> recipientToReplyOrNull) {
        this.rcptReply = recipientToReplyOrNull;
    }

    /**
     * Scripts the reply at the end of DATA: a full reply line (e.g. {@code "451 4.3.0 try again later"}), or
     * {@code null} for the default. The message is kept only when the reply is 2xx. {@code null} restores the default.
     */
    public void setDataReply(Supplier<String> dataReply) {
        this.dataReply = dataReply;
    }

    /**
     * Waits this long before every reply, the greeting included: a tarpit. {@link Duration#ZERO} (the default)
     * answers at once.
     */
    public void setReplyDelay(Duration delay) {
        this.replyDelayMillis = delay.toMillis();
    }

    /** Offer DSN (RFC 3461) in the EHLO reply from now on; its parameters are accepted and ignored. */
    public void setOfferDsn(boolean offer) {
        this.offerDsn = offer;
    }

    /**
     * From now on act as a submission server: offer STARTTLS (with {@code tls}), offer AUTH PLAIN only after it, and
     * refuse MAIL ({@code 530 5.7.0}) until AUTH PLAIN succeeded with exactly this user and password (a wrong one
     * gets {@code 535 5.7.8}). Messages received therefore all came through an authenticated session.
     */
    public void requireStartTlsAndAuthPlain(SSLContext tls, String user, String password) {
        this.authUser = user;
        this.authPassword = password;
        this.startTls = tls;
    }

    /** Successful AUTH commands since start. */
    public long authSuccesses() {
        return authSuccesses.get();
    }

    /** Refused AUTH commands since start (wrong credentials). */
    public long authFailures() {
        return authFailures.get();
    }

    /** TCP connections accepted since start. */
    public long connectionsAccepted() {
        return accepted.get();
    }

    /** The arguments of every RCPT command received since start (the first 10,000), e.g. to see NOTIFY. */
    public List<String> rcptArguments() {
        synchronized (rcptArguments) {
            return List.copyOf(rcptArguments);
        }
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
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        connections.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                accepted.incrementAndGet();
                open.add(socket);
                connections.execute(() -> {
                    try (socket) {
                        serve(socket);
                    } catch (IOException e) {
                        // the client went away
                    } finally {
                        open.remove(socket);
                    }
                });
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            } catch (RuntimeException e) { // rejected after close
                return;
            }
        }
    }

    private void serve(Socket socket) throws IOException {
        socket.setSoTimeout(300_000);
        InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8 * 1024);
        reply(out, "220 " + HOSTNAME + " ESMTP Relay capture MX");
        SSLContext tls = startTls;
        boolean secure = false;
        boolean authenticated = false;
        String helo = null;
        String mailFrom = null;
        List<String> recipients = new ArrayList<>();
        while (true) {
            byte[] raw = readLine(in, MAX_COMMAND_LINE);
            if (raw == null) {
                return;
            }
            if (!endsWithCrlf(raw)) {
                if (raw.length >= MAX_COMMAND_LINE) {
                    reply(out, "500 5.5.6 line too long");
                    skipToLf(in);
                    continue;
                }
                if (raw.length == 0 || raw[raw.length - 1] != '\n') {
                    return; // EOF inside a line
                }
                reply(out, "500 5.5.2 lines must end with CRLF");
                continue;
            }
            String line = new String(raw, 0, raw.length - 2, StandardCharsets.UTF_8);
            int space = line.indexOf(' ');
            String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            String arg = space < 0 ? "" : line.substring(space + 1).trim();
            switch (verb) {
                case "EHLO":
                    if (arg.isEmpty()) {
                        reply(out, "501 5.5.4 EHLO needs a domain");
                        break;
                    }
                    helo = arg;
                    mailFrom = null;
                    recipients.clear();
                    reply(out, "250-" + HOSTNAME + " greets " + arg + "\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                            + "250-SMTPUTF8\r\n250-SIZE " + MAX_SIZE + "\r\n" + (offerDsn ? "250-DSN\r\n" : "")
                            + (tls != null && !secure ? "250-STARTTLS\r\n" : "")
                            + (tls != null && secure && !authenticated ? "250-AUTH PLAIN\r\n" : "")
                            + "250 ENHANCEDSTATUSCODES");
                    break;
                case "HELO":
                    if (arg.isEmpty()) {
                        reply(out, "501 5.5.4 HELO needs a domain");
                        break;
                    }
                    helo = arg;
                    mailFrom = null;
                    recipients.clear();
                    reply(out, "250 " + HOSTNAME);
                    break;
                case "STARTTLS":
                    if (tls == null || secure) {
                        reply(out, "502 5.5.1 STARTTLS not offered");
                        break;
                    }
                    reply(out, "220 2.0.0 Ready to start TLS");
                    SSLSocket tlsSocket = (SSLSocket) tls.getSocketFactory().createSocket(socket,
                            socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                    tlsSocket.setUseClientMode(false);
                    tlsSocket.startHandshake();
                    in = new BufferedInputStream(tlsSocket.getInputStream(), 64 * 1024);
                    out = new BufferedOutputStream(tlsSocket.getOutputStream(), 8 * 1024);
                    secure = true;
                    helo = null;
                    mailFrom = null;
                    recipients.clear();
                    break;
                case "AUTH": {
                    if (tls == null || !secure) {
                        reply(out, tls == null ? "502 5.5.1 AUTH not offered" : "530 5.7.0 Must issue STARTTLS first");
                        break;
                    }
                    if (authenticated) {
                        reply(out, "503 5.5.1 already authenticated");
                        break;
                    }
                    String[] words = arg.split(" ");
                    if (!words[0].equalsIgnoreCase("PLAIN")) {
                        reply(out, "504 5.5.4 only AUTH PLAIN");
                        break;
                    }
                    String response = words.length > 1 ? words[1] : null;
                    if (response == null) {
                        reply(out, "334 ");
                        byte[] next = readLine(in, MAX_COMMAND_LINE);
                        if (next == null) {
                            return;
                        }
                        response = new String(next, StandardCharsets.US_ASCII).strip();
                    }
                    String expected = "\0" + authUser + "\0" + authPassword;
                    String given;
                    try {
                        given = new String(java.util.Base64.getDecoder().decode(response), StandardCharsets.UTF_8);
                    } catch (IllegalArgumentException e) {
                        reply(out, "501 5.5.2 not base64");
                        break;
                    }
                    if (given.equals(expected)) {
                        authenticated = true;
                        authSuccesses.incrementAndGet();
                        reply(out, "235 2.7.0 Authentication successful");
                    } else {
                        authFailures.incrementAndGet();
                        reply(out, "535 5.7.8 Error: authentication failed");
                    }
                    break;
                }
                case "MAIL": {
                    String path = path(arg, "FROM:");
                    if (tls != null && !authenticated) {
                        reply(out, "530 5.7.0 Authentication required");
                    } else if (path == null) {
                        reply(out, "501 5.5.4 syntax: MAIL FROM:<address>");
                    } else if (mailFrom != null) {
                        reply(out, "503 5.5.1 nested MAIL command");
                    } else {
                        mailFrom = path;
                        recipients.clear();
                        reply(out, "250 2.1.0 Ok");
                    }
                    break;
                }
                case "RCPT": {
                    String path = path(arg, "TO:");
                    synchronized (rcptArguments) {
                        if (rcptArguments.size() < 10_000) {
                            rcptArguments.add(arg);
                        }
                    }
                    if (mailFrom == null) {
                        reply(out, "503 5.5.1 need MAIL before RCPT");
                    } else if (path == null || path.isEmpty()) {
                        reply(out, "501 5.5.4 syntax: RCPT TO:<address>");
                    } else {
                        Function<String, String> script = rcptReply;
                        String scripted = script == null ? null : script.apply(path);
                        if (scripted == null || scripted.startsWith("2")) {
                            recipients.add(path);
                        }
                        reply(out, scripted == null ? "250 2.1.5 Ok" : scripted);
                    }
                    break;
                }
                case "DATA":
                    if (!arg.isEmpty()) {
                        reply(out, "501 5.5.4 DATA takes no arguments");
                    } else if (mailFrom == null) {
                        reply(out, "503 5.5.1 need MAIL before DATA");
                    } else if (recipients.isEmpty()) {
                        reply(out, "554 5.5.1 no valid recipients");
                    } else {
                        reply(out, "354 End data with <CR><LF>.<CR><LF>");
                        ByteArrayOutputStream data = new ByteArrayOutputStream(8 * 1024);
                        Boolean fits = readData(in, data);
                        if (fits == null) {
                            return; // EOF before the end of data: nothing is kept
                        }
                        if (!fits) {
                            reply(out, "552 5.3.4 message exceeds " + MAX_SIZE + " bytes");
                        } else {
                            Supplier<String> script = dataReply;
                            String scripted = script == null ? null : script.get();
                            if (scripted == null || scripted.startsWith("2")) {
                                String id = store(mailFrom, recipients, data.toByteArray(), helo);
                                reply(out, scripted == null ? "250 2.0.0 Ok: queued as " + id : scripted);
                            } else {
                                reply(out, scripted);
                            }
                        }
                        mailFrom = null;
                        recipients.clear();
                    }
                    break;
                case "RSET":
                    mailFrom = null;
                    recipients.clear();
                    reply(out, "250 2.0.0 Ok");
                    break;
                case "NOOP":
                    reply(out, "250 2.0.0 Ok");
                    break;
                case "VRFY":
                    reply(out, "252 2.5.0 cannot verify, will accept");
                    break;
                case "QUIT":
                    reply(out, "221 2.0.0 Bye");
                    return;
                default:
                    reply(out, "502 5.5.2 command not implemented");
            }
        }
    }

    /** The path of {@code FROM:<a@b> params} / {@code TO:<a@b>}, without brackets; {@code null} if malformed. */
    private static String path(String arg, String keyword) {
        if (!arg.regionMatches(true, 0, keyword, 0, keyword.length())) {
            return null;
        }
        String rest = arg.substring(keyword.length()).trim();
        if (rest.startsWith("<")) {
            int close = rest.indexOf('>');
            return close < 0 ? null : rest.substring(1, close);
        }
        if (rest.isEmpty()) {
            return null;
        }
        int space = rest.indexOf(' ');
        return space < 0 ? rest : rest.substring(0, space);
    }

    /**
     * Reads DATA up to CRLF.CRLF into {@code data}, dot-unstuffed. Returns {@code true} when complete, {@code false}
     * when complete but too large (the excess was discarded), {@code null} at EOF.
     */
    private static Boolean readData(InputStream in, ByteArrayOutputStream data) throws IOException {
        boolean lineStart = true;
        boolean fits = true;
        int previous = -1; // the last byte of the previous chunk: a CRLF may be split over two chunks
        while (true) {
            byte[] chunk = readLine(in, DATA_CHUNK);
            if (chunk == null || chunk.length == 0) {
                return null;
            }
            if (lineStart && chunk.length == 3 && chunk[0] == '.' && chunk[1] == '\r' && chunk[2] == '\n') {
                return fits;
            }
            int off = lineStart && chunk[0] == '.' ? 1 : 0;
            if (fits && data.size() + chunk.length - off <= MAX_SIZE) {
                data.write(chunk, off, chunk.length - off);
            } else {
                fits = false;
            }
            int n = chunk.length;
            lineStart = chunk[n - 1] == '\n' && (n >= 2 ? chunk[n - 2] == '\r' : previous == '\r');
            previous = chunk[n - 1];
            if (!lineStart && chunk[chunk.length - 1] != '\n' && chunk.length < DATA_CHUNK) {
                return null; // EOF in the middle of a line
            }
        }
    }

    /**
     * Bytes up to and including the next LF, or {@code max} bytes, or up to EOF; {@code null} at EOF before any byte.
     */
    private static byte[] readLine(InputStream in, int max) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (line.size() < max) {
            int b = in.read();
            if (b < 0) {
                return line.size() == 0 ? null : line.toByteArray();
            }
            line.write(b);
            if (b == '\n') {
                break;
            }
        }
        return line.toByteArray();
    }

    private static void skipToLf(InputStream in) throws IOException {
        int b;
        do {
            b = in.read();
        } while (b >= 0 && b != '\n');
    }

    private static boolean endsWithCrlf(byte[] bytes) {
        int n = bytes.length;
        return n >= 2 && bytes[n - 2] == '\r' && bytes[n - 1] == '\n';
    }

    private void reply(OutputStream out, String reply) throws IOException {
        long delay = replyDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while tarpitting", e);
            }
        }
        out.write(reply.getBytes(StandardCharsets.UTF_8));
        out.write('\r');
        out.write('\n');
        out.flush();
    }

    private String store(String mailFrom, List<String> recipients, byte[] data, String helo) throws IOException {
        String id = FILE_TIME.format(Instant.now()) + "-" + sequence.incrementAndGet();
        Path file = null;
        if (mailDir != null) {
            file = mailDir.resolve(id + ".eml");
            Path tmp = mailDir.resolve("." + id + ".eml.tmp");
            Files.write(tmp, data);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        if (keepInMemory) {
            synchronized (messages) {
                messages.add(new CapturedMessage(mailFrom, recipients, data, helo, file));
            }
        }
        return id;
    }

    /** {@code --port N --dir DIR}: runs in the foreground (for {@code ./relay up}) until killed. */
    public static void main(String[] args) throws Exception {
        int port = 2526;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port":
                    port = Integer.parseInt(args[++i]);
                    break;
                case "--dir":
                    dir = Path.of(args[++i]);
                    break;
                default:
                    System.err.println("usage: CaptureMx [--port N] [--dir DIR]");
                    System.exit(2);
            }
        }
        CaptureMx mx;
        try {
            // the messages are in the files; do not keep them in memory in a long-running process
            mx = new CaptureMx(InetAddress.getLoopbackAddress(), port, dir, false);
        } catch (SocketException e) {
            System.err.println("capture MX: cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(mx::close, "capture-mx-shutdown"));
        System.out.println("capture MX listening on 127.0.0.1:" + mx.port()
                + (mx.mailDir == null ? "" : ", saving messages to " + mx.mailDir));
        System.out.flush();
        mx.acceptor.join();
    }
}
