package bench;

import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Provider;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.eclipse.angus.mail.smtp.SMTPTransport;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relay benchmark load generator (Angus Mail).
 *
 * <pre>
 * send  --host H --port P --sessions N --messages M [--warmup W] --size BYTES [--starttls] [--user U --password PW]
 *       --from ADDR --to ADDR [--per-connection K]
 *     N sessions (one thread and one SMTP connection each) send M messages in total, after W warm-up messages that
 *     are not counted. Each connection is reused for K messages (0 = for all). Prints one line:
 *     RESULT sent=.. failed=.. elapsed_s=.. msg_per_s=.. p50_ms=.. p99_ms=.. max_ms=.. mean_ms=..
 *     where the latency is end-of-data to reply: the time SMTPTransport.finishData() takes, i.e. from writing
 *     the last buffered body bytes and "." to having read the server's reply (250) to it.
 * idle  --host H --port P --connections N --hold-seconds S
 *     Opens N plain TCP connections, reads each greeting, prints "READY opened=.. greeted=.." and stays idle for S
 *     seconds; then sends NOOP on each (to count the sessions still alive), prints "DONE alive=..", closes.
 * </pre>
 */
public final class LoadGen {

    /** Plain sockets with TCP_NODELAY; STARTTLS layers TLS over them. */
    public static final class NoDelaySocketFactory extends javax.net.SocketFactory {
        private static Socket tune(Socket s) throws IOException {
            s.setTcpNoDelay(true);
            return s;
        }

        @Override
        public Socket createSocket() throws IOException {
            return tune(new Socket());
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return tune(new Socket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, java.net.InetAddress localHost, int localPort)
                throws IOException {
            return tune(new Socket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(java.net.InetAddress host, int port) throws IOException {
            return tune(new Socket(host, port));
        }

        @Override
        public Socket createSocket(java.net.InetAddress address, int port, java.net.InetAddress localAddress,
                int localPort) throws IOException {
            return tune(new Socket(address, port, localAddress, localPort));
        }
    }

    /** SMTPTransport that remembers how long the end of DATA (final "." up to the reply) took. */
    public static final class TimedTransport extends SMTPTransport {
        long lastFinishNanos = -1;

        public TimedTransport(Session session, URLName urlname) {
            super(session, urlname);
        }

        @Override
        protected void finishData() throws IOException, MessagingException {
            long t0 = System.nanoTime();
            lastFinishNanos = -1;
            super.finishData();
            lastFinishNanos = System.nanoTime() - t0;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: LoadGen send|idle --option value ...");
            System.exit(2);
        }
        Map<String, String> o = options(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "send" -> send(o);
            case "idle" -> idle(o);
            default -> {
                System.err.println("unknown mode " + args[0]);
                System.exit(2);
            }
        }
    }

    private static Map<String, String> options(String[] a) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < a.length; i++) {
            if (!a[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected " + a[i]);
            }
            String k = a[i].substring(2);
            if (i + 1 < a.length && !a[i + 1].startsWith("--")) {
                o.put(k, a[++i]);
            } else {
                o.put(k, "true");
            }
        }
        return o;
    }

    // ---------------------------------------------------------------------------------------------------- send

    private static void send(Map<String, String> o) throws Exception {
        String host = o.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(o.getOrDefault("port", "2587"));
        int sessions = Integer.parseInt(o.getOrDefault("sessions", "1"));
        int messages = Integer.parseInt(o.getOrDefault("messages", "100"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "0"));
        int size = Integer.parseInt(o.getOrDefault("size", "1024"));
        int perConnection = Integer.parseInt(o.getOrDefault("per-connection", "0"));
        boolean starttls = o.containsKey("starttls");
        String user = o.get("user");
        String password = o.get("password");
        String from = o.getOrDefault("from", "bench@example.test");
        String to = o.getOrDefault("to", "bench@bench.example");

        Properties p = new Properties();
        p.put("mail.smtp.host", host);
        p.put("mail.smtp.port", Integer.toString(port));
        p.put("mail.smtp.from", from);
        p.put("mail.smtp.localhost", "loadgen.bench.example");
        p.put("mail.smtp.connectiontimeout", "30000");
        p.put("mail.smtp.timeout", "60000");
        p.put("mail.smtp.quitwait", "false");
        if (starttls) {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
            // the local run's development certificate is self-signed; the target is always 127.0.0.1
            p.put("mail.smtp.ssl.trust", "*");
            p.put("mail.smtp.ssl.checkserveridentity", "false");
        }
        if (user != null) {
            p.put("mail.smtp.auth", "true");
            p.put("mail.smtp.auth.mechanisms", "PLAIN");
        }
        // TCP_NODELAY, as every MTA sets it: without it Nagle's algorithm holds the final "." behind the unacknowledged
        // end of the body until the server's delayed ACK (~40 ms on Linux), which would dominate the latency measured
        p.put("mail.smtp.socketFactory", new NoDelaySocketFactory());
        p.put("mail.smtp.socketFactory.fallback", "false");
        Session session = Session.getInstance(p);
        Provider provider = new Provider(Provider.Type.TRANSPORT, "smtp", TimedTransport.class.getName(),
                "relay-bench", "1");
        session.addProvider(provider);
        session.setProvider(provider);

        byte[] body = body(size);
        Address[] rcpt = {new InternetAddress(to)};

        AtomicInteger remaining = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        long[][] latencies = new long[sessions][];
        int[] counts = new int[sessions];
        boolean[] recording = {false};
        CyclicBarrier barrier = new CyclicBarrier(sessions + 1);
        AtomicLong lastDone = new AtomicLong();

        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < sessions; s++) {
            final int idx = s;
            latencies[idx] = new long[Math.max(16, messages / sessions * 2)];
            Thread t = new Thread(() -> {
                TimedTransport tr = null;
                int onConnection = 0;
                try {
                    // sessions open one after another, so that only the first AUTH reaches the identity provider
                    // (the ingress caches a successful check) instead of N identical ones at the same instant
                    synchronized (LoadGen.class) {
                        tr = connect(session, host, port, user, password);
                    }
                    for (int phase = 0; phase < 2; phase++) {
                        barrier.await();
                        while (remaining.getAndDecrement() > 0) {
                            try {
                                if (tr == null || (perConnection > 0 && onConnection >= perConnection)) {
                                    closeQuietly(tr);
                                    tr = connect(session, host, port, user, password);
                                    onConnection = 0;
                                }
                                MimeMessage m = new MimeMessage(session,
                                        new ByteArrayInputStream(message(from, to, body)));
                                tr.sendMessage(m, rcpt);
                                onConnection++;
                                if (recording[0]) {
                                    sent.incrementAndGet();
                                    if (counts[idx] == latencies[idx].length) {
                                        latencies[idx] = Arrays.copyOf(latencies[idx], counts[idx] * 2);
                                    }
                                    latencies[idx][counts[idx]++] = tr.lastFinishNanos;
                                }
                            } catch (Exception e) {
                                if (recording[0]) {
                                    failed.incrementAndGet();
                                }
                                errors.computeIfAbsent(String.valueOf(e.getMessage()).trim(),
                                        k -> new AtomicInteger()).incrementAndGet();
                                closeQuietly(tr);
                                tr = null;
                            }
                        }
                        lastDone.accumulateAndGet(System.nanoTime(), Math::max);
                        barrier.await();
                    }
                } catch (Exception e) {
                    if (!(e instanceof java.util.concurrent.BrokenBarrierException)) {
                        System.err.println("session " + idx + " failed: " + e);
                    }
                    barrier.reset();
                } finally {
                    closeQuietly(tr);
                }
            }, "session-" + s);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }

        // warm-up phase (not counted), then the measured phase
        remaining.set(warmup);
        barrier.await();
        barrier.await();
        remaining.set(messages);
        recording[0] = true;
        long t0 = System.nanoTime();
        barrier.await();
        barrier.await();
        long elapsed = lastDone.get() - t0;
        for (Thread t : threads) {
            t.join(30_000);
        }

        int n = 0;
        for (int s = 0; s < sessions; s++) {
            n += counts[s];
        }
        long[] all = new long[n];
        int k = 0;
        for (int s = 0; s < sessions; s++) {
            System.arraycopy(latencies[s], 0, all, k, counts[s]);
            k += counts[s];
        }
        Arrays.sort(all);
        double mean = 0;
        for (long v : all) {
            mean += v;
        }
        mean = n == 0 ? 0 : mean / n;
        double secs = elapsed / 1e9;
        errors.forEach((msg, c) -> System.err.println("error x" + c + ": " + msg));
        System.out.printf(Locale.ROOT,
                "RESULT sent=%d failed=%d elapsed_s=%.3f msg_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f%n",
                sent.get(), failed.get(), secs, sent.get() / secs, ms(pct(all, 0.50)), ms(pct(all, 0.99)),
                ms(n == 0 ? 0 : all[n - 1]), mean / 1e6);
    }

    private static TimedTransport connect(Session session, String host, int port, String user, String password)
            throws MessagingException {
        TimedTransport tr = (TimedTransport) session.getTransport("smtp");
        tr.connect(host, port, user, password);
        return tr;
    }

    private static void closeQuietly(TimedTransport tr) {
        if (tr != null) {
            try {
                tr.close();
            } catch (Exception ignored) {
                // closing a broken connection
            }
        }
    }

    private static long pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int idx = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** A body of exactly {@code size} bytes: 7-bit text lines of at most 78 characters, each ending in CRLF. */
    private static byte[] body(int size) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(size + 100);
        String alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 ";
        int k = 0;
        while (b.size() < size) {
            int remaining = size - b.size();
            int chars = remaining >= 80 ? 78 : Math.max(0, remaining - 2);
            for (int c = 0; c < chars; c++) {
                b.write(alphabet.charAt(k++ % alphabet.length()));
            }
            if (remaining - chars >= 2) {
                b.write('\r');
                b.write('\n');
            } else {
                b.write('x'); // remaining == 1: the message ends without CRLF; the client adds it before "."
            }
        }
        return b.toByteArray();
    }

    private static byte[] message(String from, String to, byte[] body) {
        String headers = "From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: relay bench\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now()) + "\r\n"
                + "Message-ID: <" + UUID.randomUUID() + "@loadgen.bench.example>\r\n"
                + "\r\n";
        byte[] h = headers.getBytes(StandardCharsets.US_ASCII);
        byte[] m = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, m, h.length, body.length);
        return m;
    }

    // ---------------------------------------------------------------------------------------------------- idle

    private static void idle(Map<String, String> o) throws Exception {
        String host = o.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(o.getOrDefault("port", "2525"));
        int n = Integer.parseInt(o.getOrDefault("connections", "1000"));
        int hold = Integer.parseInt(o.getOrDefault("hold-seconds", "20"));
        List<Socket> sockets = new ArrayList<>();
        List<BufferedReader> readers = new ArrayList<>();
        int greeted = 0;
        Map<String, Integer> other = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(host, port), 10_000);
                s.setSoTimeout(15_000);
                BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                String line = r.readLine();
                if (line != null && line.startsWith("220")) {
                    greeted++;
                    sockets.add(s);
                    readers.add(r);
                } else {
                    other.merge(String.valueOf(line), 1, Integer::sum);
                    s.close();
                }
            } catch (IOException e) {
                other.merge(e.toString(), 1, Integer::sum);
                s.close();
            }
        }
        other.forEach((k, v) -> System.err.println("not greeted x" + v + ": " + k));
        System.out.println("READY opened=" + n + " greeted=" + greeted);
        System.out.flush();
        Thread.sleep(hold * 1000L);
        int alive = 0;
        for (int i = 0; i < sockets.size(); i++) {
            try {
                OutputStream out = sockets.get(i).getOutputStream();
                out.write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String line = readers.get(i).readLine();
                if (line != null && line.startsWith("250")) {
                    alive++;
                }
            } catch (IOException e) {
                // counted as not alive
            }
        }
        for (Socket s : sockets) {
            try {
                s.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
                // closing anyway
            }
            s.close();
        }
        System.out.println("DONE alive=" + alive);
    }
}
