package dev.relay.testkit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * The raw SMTP client of the tests, for dialogue assertions: plain text, STARTTLS, or implicit TLS (port 465
 * style), AUTH PLAIN and LOGIN. Certificates are not verified (the ingress presents a self-signed development
 * certificate). It keeps a C:/S: transcript for failure messages; credentials are masked in it. Loopback only.
 * Hostile clients, which must bound what they read and keep replies unread, have their own
 * ({@code hostile.HostileClients}).
 */
public class SmtpTestClient implements AutoCloseable {

    private static final SSLContext TRUST_ALL = trustAll();

    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private final StringBuilder transcript = new StringBuilder();

    private SmtpTestClient(Socket socket, String description) throws IOException {
        transcript.append("-- ").append(description).append('\n');
        use(socket);
    }

    /** A plain-text connection to 127.0.0.1:{@code port}; read the greeting with {@link #reply()}. */
    public SmtpTestClient(int port) throws IOException {
        this(connect(port), "connected to 127.0.0.1:" + port + " (plain text)");
    }

    public static SmtpTestClient plain(int port) throws IOException {
        return new SmtpTestClient(port);
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        return socket;
    }

    /** A connection that is TLS from the first byte; read the greeting with {@link #reply()}. */
    public static SmtpTestClient implicitTls(int port) throws IOException {
        Socket raw = new Socket();
        raw.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        SSLSocket tls = handshake(raw, port);
        return new SmtpTestClient(tls, "connected to 127.0.0.1:" + port + " (implicit TLS, "
                + tls.getSession().getProtocol() + ", " + tls.getSession().getCipherSuite() + ")");
    }

    public String reply() throws IOException {
        StringBuilder reply = new StringBuilder();
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                transcript.append("S: <closed>\n");
                return reply.append("<closed>").toString();
            }
            transcript.append("S: ").append(line).append('\n');
            reply.append(line).append('\n');
        } while (line.length() > 3 && line.charAt(3) == '-');
        return reply.toString();
    }

    public String send(String line) throws IOException {
        return send(line, line);
    }

    /** Sends {@code line}, showing {@code shown} in the transcript instead (to mask credentials). */
    private String send(String line, String shown) throws IOException {
        transcript.append("C: ").append(shown).append('\n');
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return reply();
    }

    /**
     * Sends STARTTLS; on a 220 reply performs the handshake and returns the reply. The caller must send EHLO
     * again (RFC 3207: the session starts over).
     */
    public String startTls() throws IOException {
        String reply = send("STARTTLS");
        if (reply.startsWith("220")) {
            SSLSocket tls = handshake(socket, socket.getPort());
            transcript.append("-- TLS established (").append(tls.getSession().getProtocol()).append(", ")
                    .append(tls.getSession().getCipherSuite()).append(")\n");
            use(tls);
        }
        return reply;
    }

    /** AUTH PLAIN with an initial response; the transcript shows {@code AUTH PLAIN <user/***>}. */
    public String authPlain(String user, String password) throws IOException {
        String response = Base64.getEncoder().encodeToString(("\0" + user + "\0" + password)
                .getBytes(StandardCharsets.UTF_8));
        return send("AUTH PLAIN " + response, "AUTH PLAIN <" + user + "/***>");
    }

    /** AUTH LOGIN in three steps; returns the last reply (or the first one that is not 334). */
    public String authLogin(String user, String password) throws IOException {
        String reply = send("AUTH LOGIN");
        if (!reply.startsWith("334")) {
            return reply;
        }
        reply = send(Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)), "<" + user + ">");
        if (!reply.startsWith("334")) {
            return reply;
        }
        return send(Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)), "<***>");
    }

    public String transcript() {
        return transcript.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private void use(Socket s) throws IOException {
        socket = s;
        socket.setSoTimeout(30_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
    }

    private static SSLSocket handshake(Socket raw, int port) throws IOException {
        SSLSocket tls = (SSLSocket) TRUST_ALL.getSocketFactory().createSocket(raw, "127.0.0.1", port, true);
        tls.setUseClientMode(true);
        tls.setSoTimeout(30_000);
        tls.startHandshake();
        return tls;
    }

    /** A TLS context that accepts any server certificate: for test clients on loopback only. */
    public static SSLContext trustAll() {
        TrustManager[] trustAll = {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
                // a test client: the server's development certificate is self-signed
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                // idem
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }};
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustAll, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
