package dev.relay.delivery.transport;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small submission-style SMTP server for the AUTH and CHUNKING tests (real sockets, 127.0.0.1, port 0): STARTTLS
 * with a given context, AUTH PLAIN / LOGIN / XOAUTH2 against expected credentials (offered only after TLS, as
 * real providers do), MAIL only after a successful AUTH when AUTH is offered at all, BDAT (RFC 3030) and DATA. It records every
 * command line as received (so that a test can prove that a credential was never sent), the message bytes as
 * they arrived (BDAT: concatenated chunks; DATA: dot-unstuffed) and the chunk sizes.
 */
public final class SubmissionServer implements AutoCloseable {

    /** One accepted message. */
    public record Received(String mailFrom, List<String> recipients, byte[] data, List<Integer> chunks, String user) {
    }

    private SSLContext tls;
    private List<String> mechanisms = List.of("PLAIN", "LOGIN");
    private boolean authBeforeTls;
    private boolean chunking;
    private boolean pipelining;
    private final Map<String, String> passwords = new ConcurrentHashMap<>();
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    /** BDAT chunk (0-based, per transaction) → reply instead of 250. */
    private final Map<Integer, String> bdatReplies = new ConcurrentHashMap<>();
    private String authFailure = "535 5.7.8 Error: authentication failed";
    private String loginChallenge = "VXNlcm5hbWU6";

    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<Received> messages = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private ServerSocket server;

    /** STARTTLS with a self-signed certificate for localhost made in {@code dir} (for tests outside this package). */
    public SubmissionServer selfSignedTls(java.nio.file.Path dir) throws Exception {
        return tls(SelfSignedTls.serverContext(dir));
    }

    public SubmissionServer tls(SSLContext context) {
        this.tls = context;
        return this;
    }

    /** The AUTH line's mechanisms; empty: no AUTH offered. */
    public SubmissionServer mechanisms(String... names) {
        this.mechanisms = List.of(names);
        return this;
    }

    /** Offer AUTH on a plain-text connection too (a careless server). */
    public SubmissionServer authBeforeTls() {
        this.authBeforeTls = true;
        return this;
    }

    public SubmissionServer chunking() {
        this.chunking = true;
        return this;
    }

    public SubmissionServer pipelining() {
        this.pipelining = true;
        return this;
    }

    public SubmissionServer user(String user, String password) {
        passwords.put(user, password);
        return this;
    }

    public SubmissionServer token(String user, String token) {
        tokens.put(user, token);
        return this;
    }

    /** The text of the first AUTH LOGIN challenge (a hostile server sends one beyond every bound). */
    public SubmissionServer loginChallenge(String text) {
        this.loginChallenge = text;
        return this;
    }

    public SubmissionServer bdatReply(int chunk, String reply) {
        bdatReplies.put(chunk, reply);
        return this;
    }

    public SubmissionServer start() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "submission-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    public int connections() {
        return connections.get();
    }

    public List<String> commands() {
        return Collections.unmodifiableList(commands);
    }

    /** Whether any command line began with {@code prefix} (case-insensitive). */
    public boolean saw(String prefix) {
        return commands.stream().anyMatch(c -> c.toUpperCase(Locale.ROOT).startsWith(prefix.toUpperCase(Locale.ROOT)));
    }

    public long count(String prefix) {
        return commands.stream().filter(c -> c.toUpperCase(Locale.ROOT).startsWith(prefix.toUpperCase(Locale.ROOT)))
                .count();
    }

    public List<Received> messages() {
        return Collections.unmodifiableList(messages);
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
                Thread t = new Thread(() -> {
                    try (socket) {
                        socket.setSoTimeout(20_000);
                        serve(socket);
                    } catch (IOException e) {
                        // the client went away
                    }
                }, "submission-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void serve(Socket plain) throws IOException {
        Socket socket = plain;
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        boolean secure = false;
        String user = null;
        String mailFrom = null;
        List<String> rcpts = new ArrayList<>();
        ByteArrayOutputStream bdat = null;
        List<Integer> chunks = new ArrayList<>();
        boolean bdatFailed = false;
        reply(out, "220 submission.test ESMTP");
        while (true) {
            String line = readLine(in);
            if (line == null) {
                return;
            }
            commands.add(line);
            String upper = line.toUpperCase(Locale.ROOT);
            if (upper.startsWith("EHLO")) {
                StringBuilder ehlo = new StringBuilder("250-submission.test");
                if (tls != null && !secure) {
                    ehlo.append("\r\n250-STARTTLS");
                }
                if (!mechanisms.isEmpty() && (secure || authBeforeTls)) {
                    ehlo.append("\r\n250-AUTH ").append(String.join(" ", mechanisms));
                }
                if (chunking) {
                    ehlo.append("\r\n250-CHUNKING");
                }
                if (pipelining) {
                    ehlo.append("\r\n250-PIPELINING");
                }
                ehlo.append("\r\n250 8BITMIME");
                reply(out, ehlo.toString());
            } else if (upper.equals("STARTTLS") && tls != null && !secure) {
                reply(out, "220 2.0.0 ready to start TLS");
                SSLSocket ssl = (SSLSocket) tls.getSocketFactory()
                        .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                socket = ssl;
                in = new BufferedInputStream(socket.getInputStream());
                out = socket.getOutputStream();
                secure = true;
            } else if (upper.startsWith("AUTH ")) {
                user = auth(line.substring(5).strip(), in, out);
            } else if (upper.startsWith("MAIL FROM:")) {
                if (!mechanisms.isEmpty() && user == null) { // a server that offers AUTH requires it
                    reply(out, "530 5.7.0 Authentication required");
                } else {
                    mailFrom = line.substring(line.indexOf('<') + 1, line.indexOf('>'));
                    rcpts.clear();
                    bdat = null;
                    chunks = new ArrayList<>();
                    bdatFailed = false;
                    reply(out, "250 2.1.0 ok");
                }
            } else if (upper.startsWith("RCPT TO:")) {
                rcpts.add(line.substring(line.indexOf('<') + 1, line.indexOf('>')));
                reply(out, "250 2.1.5 ok");
            } else if (upper.startsWith("BDAT ")) {
                String[] parts = line.split(" ");
                int size = Integer.parseInt(parts[1]);
                boolean last = parts.length > 2 && parts[2].equalsIgnoreCase("LAST");
                byte[] chunk = in.readNBytes(size);
                if (chunk.length < size) {
                    return;
                }
                int index = chunks.size();
                chunks.add(size);
                if (bdat == null) {
                    bdat = new ByteArrayOutputStream();
                }
                bdat.write(chunk);
                String scripted = bdatReplies.get(index);
                if (mailFrom == null || rcpts.isEmpty() || bdatFailed) {
                    reply(out, "503 5.5.1 no valid transaction");
                } else if (scripted != null) {
                    bdatFailed = true; // RFC 3030 §2: the transaction is over; the client must RSET
                    reply(out, scripted);
                } else if (last) {
                    messages.add(new Received(mailFrom, List.copyOf(rcpts), bdat.toByteArray(), List.copyOf(chunks),
                            user));
                    mailFrom = null;
                    reply(out, "250 2.0.0 queued");
                } else {
                    reply(out, "250 2.0.0 " + size + " octets received");
                }
            } else if (upper.equals("DATA")) {
                reply(out, "354 go ahead");
                ByteArrayOutputStream data = new ByteArrayOutputStream();
                while (true) {
                    byte[] raw = readRaw(in);
                    if (raw == null) {
                        return;
                    }
                    if (raw.length == 3 && raw[0] == '.' && raw[1] == '\r') {
                        break;
                    }
                    int skip = raw.length > 0 && raw[0] == '.' ? 1 : 0;
                    data.write(raw, skip, raw.length - skip);
                }
                messages.add(new Received(mailFrom, List.copyOf(rcpts), data.toByteArray(), List.of(), user));
                mailFrom = null;
                reply(out, "250 2.0.0 queued");
            } else if (upper.equals("RSET")) {
                mailFrom = null;
                rcpts.clear();
                bdat = null;
                chunks = new ArrayList<>();
                bdatFailed = false;
                reply(out, "250 2.0.0 ok");
            } else if (upper.equals("QUIT")) {
                reply(out, "221 2.0.0 bye");
                return;
            } else {
                reply(out, "502 5.5.2 unknown command");
            }
        }
    }

    /** Runs one SASL exchange; the authenticated user, or null. */
    private String auth(String args, InputStream in, OutputStream out) throws IOException {
        String[] parts = args.split(" ", 2);
        String mechanism = parts[0].toUpperCase(Locale.ROOT);
        if (!mechanisms.contains(mechanism)) {
            reply(out, "504 5.5.4 mechanism not available");
            return null;
        }
        switch (mechanism) {
            case "PLAIN": {
                String response = parts.length > 1 ? parts[1] : challenge(out, in, "");
                String[] fields = decode(response).split("\0", -1);
                if (fields.length == 3 && fields[2].equals(passwords.get(fields[1]))) {
                    reply(out, "235 2.7.0 Authentication successful");
                    return fields[1];
                }
                break;
            }
            case "LOGIN": {
                String user = decode(challenge(out, in, loginChallenge));
                String password = decode(challenge(out, in, "UGFzc3dvcmQ6"));
                if (password.equals(passwords.get(user))) {
                    reply(out, "235 2.7.0 Authentication successful");
                    return user;
                }
                break;
            }
            case "XOAUTH2": {
                String[] fields = decode(parts.length > 1 ? parts[1] : "").split("\u0001", -1);
                String user = fields.length > 0 && fields[0].startsWith("user=") ? fields[0].substring(5) : "";
                String auth = fields.length > 1 && fields[1].startsWith("auth=Bearer ") ? fields[1].substring(12) : "";
                if (auth.equals(tokens.get(user))) {
                    reply(out, "235 2.7.0 Accepted");
                    return user;
                }
                String error = "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.example/\"}";
                String answer = challenge(out, in, Base64.getEncoder().encodeToString(
                        error.getBytes(StandardCharsets.UTF_8)));
                if (!answer.isEmpty()) {
                    reply(out, "501 5.5.2 expected an empty response");
                    return null;
                }
                reply(out, "535 5.7.8 Username and Password not accepted");
                return null;
            }
            default:
                break;
        }
        reply(out, authFailure);
        return null;
    }

    private String challenge(OutputStream out, InputStream in, String text) throws IOException {
        reply(out, "334 " + text);
        String line = readLine(in);
        commands.add(line == null ? "" : line);
        return line == null ? "" : line;
    }

    private static String decode(String b64) {
        try {
            return new String(Base64.getDecoder().decode(b64.strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static void reply(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        byte[] raw = readRaw(in);
        if (raw == null) {
            return null;
        }
        int end = raw.length;
        while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    private static byte[] readRaw(InputStream in) throws IOException {
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
