package dev.relay.delivery.mtasts;

import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.MxResolver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fetches {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.3) with Vert.x's HTTP client,
 * against a server that may be hostile:
 * <ul>
 *   <li>the policy host is resolved through the delivery's own DNS client ({@link MxResolver}, the configured
 *       resolvers and cache), every address goes through the {@link DestinationGuard} (private addresses only under
 *       the test-only switch), and the connection goes to exactly the checked address, with the policy host name
 *       as SNI and as the name the certificate must carry ({@link WebPkiTrust}: WebPKI, host name verified);</li>
 *   <li>redirects are not followed (RFC 8461 §3.3) and only {@code 200} with {@code text/plain} counts;</li>
 *   <li>the body is read up to {@value #MAX_BODY} octets: a longer one aborts the connection; headers are bounded
 *       by the client (8 KiB), no content encoding is asked for or decoded;</li>
 *   <li>the whole fetch, DNS included, has one deadline ({@code relay.delivery.mta-sts.fetch-timeout}).</li>
 * </ul>
 * Never fails: the result is a policy or the reason there is none. Nothing here blocks.
 */
public final class PolicyFetcher {

    /** RFC 8461 §3.3 leaves the limit to the sender; 64 KiB is far above any real policy. */
    public static final int MAX_BODY = 64 * 1024;
    static final String PATH = "/.well-known/mta-sts.txt";

    /** The outcome of one fetch. */
    public sealed interface Fetched {
        record Good(StsPolicy policy) implements Fetched {
        }

        record Failed(String why) implements Fetched {
        }
    }

    private final Vertx vertx;
    private final MxResolver dns;
    private final DestinationGuard guard;
    private final HttpClient client;
    private final Duration timeout;
    private final int port;

    /**
     * @param port 443; another only in tests (the policy server of a test listens on an ephemeral port)
     */
    public PolicyFetcher(Vertx vertx, MxResolver dns, DestinationGuard guard, WebPkiTrust trust, Duration timeout,
                         int port) {
        this.vertx = vertx;
        this.dns = dns;
        this.guard = guard;
        this.timeout = timeout;
        this.port = port;
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        this.client = vertx.createHttpClient(new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(trust.trustOptions())
                .setVerifyHost(true)
                .setForceSni(true)
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(false)
                .setDecompressionSupported(false)
                .setMaxHeaderSize(8192)
                .setMaxInitialLineLength(4096)
                .setConnectTimeout(millis)
                .setMaxRedirects(0));
    }

    /** The policy of {@code domain}, or why it could not be had. */
    public Future<Fetched> fetch(String domain) {
        String host = "mta-sts." + domain;
        Promise<Fetched> done = Promise.promise();
        AtomicReference<HttpClientRequest> request = new AtomicReference<>();
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> {
            if (done.tryComplete(failed("no policy from " + host + " within " + timeout.toSeconds() + "s"))) {
                HttpClientRequest pending = request.get();
                if (pending != null) {
                    pending.reset();
                }
            }
        });
        dns.addresses(host).onComplete(found -> {
            if (found.failed()) {
                done.tryComplete(failed("policy host " + host + " does not resolve: " + found.cause().getMessage()));
                return;
            }
            List<String> permitted = found.result().stream().filter(guard::permits).toList();
            if (permitted.isEmpty()) {
                done.tryComplete(failed(found.result().isEmpty() ? "policy host " + host + " has no address"
                        : "policy host " + host + " has only refused (private) addresses"));
                return;
            }
            get(host, permitted.get(0), request, done);
        });
        return done.future().onComplete(v -> vertx.cancelTimer(timer));
    }

    private void get(String host, String address, AtomicReference<HttpClientRequest> request,
                     Promise<Fetched> done) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost(host)
                .setPort(port)
                .setURI(PATH)
                .setServer(SocketAddress.inetSocketAddress(port, address))
                .setSsl(true)
                .setFollowRedirects(false);
        client.request(options).onComplete(created -> {
            if (created.failed()) {
                done.tryComplete(failed("cannot connect to " + host + "[" + address + "]: "
                        + created.cause().getMessage()));
                return;
            }
            HttpClientRequest req = created.result();
            request.set(req);
            if (done.future().isComplete()) { // timed out while connecting
                req.reset();
                return;
            }
            req.send().onComplete(sent -> {
                if (sent.failed()) {
                    done.tryComplete(failed("request to " + host + " failed: " + sent.cause().getMessage()));
                    return;
                }
                read(host, req, sent.result(), done);
            });
        });
    }

    private static void read(String host, HttpClientRequest req, HttpClientResponse response,
                             Promise<Fetched> done) {
        String refused = refusal(response);
        if (refused != null) {
            done.tryComplete(failed(host + ": " + refused));
            req.reset();
            return;
        }
        Buffer body = Buffer.buffer();
        response.handler(chunk -> {
            if (done.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > MAX_BODY) {
                done.tryComplete(failed(host + ": policy larger than " + MAX_BODY + " octets"));
                req.reset();
                return;
            }
            body.appendBuffer(chunk);
        });
        response.exceptionHandler(e -> done.tryComplete(failed(host + ": " + e.getMessage())));
        response.endHandler(v -> {
            StsPolicy.Parsed parsed = StsPolicy.parse(body.toString(StandardCharsets.ISO_8859_1));
            done.tryComplete(parsed instanceof StsPolicy.Parsed.Good good ? new Fetched.Good(good.policy())
                    : failed(host + ": bad policy: " + ((StsPolicy.Parsed.Bad) parsed).why()));
        });
    }

    /** Why the response cannot carry a policy, before its body is read; null if it may. */
    private static String refusal(HttpClientResponse response) {
        if (response.statusCode() != 200) {
            return "HTTP " + response.statusCode() + (response.statusCode() / 100 == 3 ? " (redirects are not "
                    + "followed, RFC 8461 §3.3)" : "");
        }
        String type = response.getHeader("Content-Type");
        String media = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!media.equals("text/plain")) {
            return "content type " + StsRecord.printable(type == null ? "(none)" : type) + ", not text/plain";
        }
        String length = response.getHeader("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > MAX_BODY) {
                    return "policy of " + StsRecord.printable(length) + " octets, larger than " + MAX_BODY;
                }
            } catch (NumberFormatException e) {
                return "bad Content-Length";
            }
        }
        return null;
    }

    private static Fetched failed(String why) {
        return new Fetched.Failed(why);
    }

    public Future<Void> close() {
        return client.close();
    }
}
