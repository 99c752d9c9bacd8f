package dev.relay.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An HTTPS server on 127.0.0.1, port 0, that serves MTA-STS policies (RFC 8461 §3.3) at
 * {@code /.well-known/mta-sts.txt} for the hosts {@code mta-sts.<domain>} it is told about, chosen by the
 * {@code Host} header. Its certificate, issued by a {@link TestCa}, names every {@code mta-sts.<domain>} given at
 * start. Per domain the answer can be scripted to misbehave: another status, a redirect, another content type, a
 * huge body (streamed, so that only the client's bound stops it) or no answer at all. Counts requests per domain.
 * It also records every POST (e.g. TLS-RPT reports, RFC 8460 §5.4) with its host, path, content type and body (at
 * most {@value #MAX_POST} octets kept) and answers it {@code 200}.
 */
public final class HttpsPolicyServer implements AutoCloseable {

    /** What one domain's policy host answers. */
    private record Answer(int status, String contentType, byte[] body, long hugeBytes, Duration hang,
                          String location) {
    }

    private final HttpsServer server;
    private final ExecutorService threads;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final List<Post> posts = new CopyOnWriteArrayList<>();
    private volatile Consumer<Post> postListener = p -> { };

    /** Octets of a POST body kept at most; the rest is read and dropped. */
    public static final int MAX_POST = 1024 * 1024;

    /** One POST received: the Host header (without port), the path, the Content-Type and the body. */
    public record Post(String host, String path, String contentType, byte[] body) {
    }

    private HttpsPolicyServer(SSLContext tls) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "https-policy-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves policies for these domains with a certificate from {@code ca} naming each {@code mta-sts.<domain>}. */
    public static HttpsPolicyServer start(TestCa ca, String... domains) {
        return start(ca.serverContext(Arrays.stream(domains).map(d -> "mta-sts." + d).toArray(String[]::new)));
    }

    /** Serves with this server TLS context (e.g. a certificate for the wrong names). */
    public static HttpsPolicyServer start(SSLContext tls) {
        try {
            return new HttpsPolicyServer(tls);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the HTTPS policy server", e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code domain}'s policy: 200, {@code text/plain}, this body. */
    public HttpsPolicyServer policy(String domain, String body) {
        return answer(domain, new Answer(200, "text/plain", body.getBytes(StandardCharsets.UTF_8), 0, null, null));
    }

    /** An enforce/testing/none policy for these MX patterns with a max_age of one day. */
    public HttpsPolicyServer policy(String domain, String mode, String... mx) {
        StringBuilder body = new StringBuilder("version: STSv1\r\nmode: ").append(mode).append("\r\n");
        for (String pattern : mx) {
            body.append("mx: ").append(pattern).append("\r\n");
        }
        return policy(domain, body.append("max_age: 86400\r\n").toString());
    }

    /** {@code domain}'s host answers with this status and content type. */
    public HttpsPolicyServer answer(String domain, int status, String contentType, String body) {
        return answer(domain, new Answer(status, contentType, body.getBytes(StandardCharsets.UTF_8), 0, null, null));
    }

    /** {@code domain}'s host redirects (302) to {@code location}. */
    public HttpsPolicyServer redirect(String domain, String location) {
        return answer(domain, new Answer(302, "text/plain", new byte[0], 0, null, location));
    }

    /** {@code domain}'s host streams a text/plain body of {@code bytes} octets (chunked, no length). */
    public HttpsPolicyServer huge(String domain, long bytes) {
        return answer(domain, new Answer(200, "text/plain", new byte[0], bytes, null, null));
    }

    /** {@code domain}'s host accepts the request and answers nothing for {@code hang}. */
    public HttpsPolicyServer hang(String domain, Duration hang) {
        return answer(domain, new Answer(200, "text/plain", new byte[0], 0, hang, null));
    }

    /** Also hands every POST to {@code listener} (e.g. to write it where a test in another class loader reads). */
    public HttpsPolicyServer onPost(Consumer<Post> listener) {
        this.postListener = listener;
        return this;
    }

    /** The POSTs received so far, oldest first. */
    public List<Post> posts() {
        return List.copyOf(posts);
    }

    /** Requests seen for {@code mta-sts.<domain>}. */
    public int requests(String domain) {
        AtomicInteger n = requests.get(domain.toLowerCase(Locale.ROOT));
        return n == null ? 0 : n.get();
    }

    private HttpsPolicyServer answer(String domain, Answer answer) {
        answers.put(domain.toLowerCase(Locale.ROOT), answer);
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String host = String.valueOf(exchange.getRequestHeaders().getFirst("Host")).toLowerCase(Locale.ROOT);
            host = host.contains(":") ? host.substring(0, host.indexOf(':')) : host;
            String domain = host.startsWith("mta-sts.") ? host.substring("mta-sts.".length()) : host;
            requests.computeIfAbsent(domain, d -> new AtomicInteger()).incrementAndGet();
            if (exchange.getRequestMethod().equals("POST")) {
                byte[] body = exchange.getRequestBody().readNBytes(MAX_POST);
                exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
                Post post = new Post(host, exchange.getRequestURI().getPath(),
                        exchange.getRequestHeaders().getFirst("Content-Type"), body);
                posts.add(post);
                postListener.accept(post);
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            Answer answer = answers.get(domain);
            if (answer == null || !exchange.getRequestURI().getPath().equals("/.well-known/mta-sts.txt")) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (answer.hang() != null) {
                sleep(answer.hang());
                return;
            }
            if (answer.contentType() != null) {
                exchange.getResponseHeaders().set("Content-Type", answer.contentType());
            }
            if (answer.location() != null) {
                exchange.getResponseHeaders().set("Location", answer.location());
            }
            if (answer.hugeBytes() > 0) {
                exchange.sendResponseHeaders(answer.status(), 0); // chunked
                byte[] line = "mx: filler.example.org\r\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
                try (OutputStream out = exchange.getResponseBody()) {
                    for (long sent = 0; sent < answer.hugeBytes(); sent += line.length) {
                        out.write(line);
                    }
                } catch (IOException e) {
                    // the client hung up, as it should
                }
                return;
            }
            exchange.sendResponseHeaders(answer.status(), answer.body().length == 0 ? -1 : answer.body().length);
            if (answer.body().length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(answer.body());
                }
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
