package dev.relay.delivery.tlsrpt;

import dev.relay.delivery.mtasts.WebPkiTrust;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.MxResolver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * POSTs a gzipped report to an {@code https:} rua (RFC 8460 §5.4: {@code Content-Type: application/tlsrpt+gzip})
 * the way the MTA-STS policy fetch talks to a hostile server: the host is resolved through the delivery's DNS
 * client, every address passes the {@link DestinationGuard}, the connection goes to the checked address with the
 * URI's host as SNI and as the name its WebPKI certificate must carry, no redirect is followed, the response body
 * is not read, and the whole POST (DNS included) has one deadline. A 2xx answer is success. Never fails: the
 * result is null on success or the reason it failed. Nothing here blocks.
 */
public final class ReportPoster {

    private final Vertx vertx;
    private final MxResolver dns;
    private final DestinationGuard guard;
    private final HttpClient client;
    private final Duration timeout;

    public ReportPoster(Vertx vertx, MxResolver dns, DestinationGuard guard, WebPkiTrust trust, Duration timeout) {
        this.vertx = vertx;
        this.dns = dns;
        this.guard = guard;
        this.timeout = timeout;
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

    /** Completes with null when the endpoint took the report (2xx), else with why not. */
    public Future<String> post(URI uri, byte[] gzippedReport) {
        String host = uri.getHost();
        int port = uri.getPort() < 0 ? 443 : uri.getPort();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        Promise<String> done = Promise.promise();
        AtomicReference<HttpClientRequest> request = new AtomicReference<>();
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> {
            if (done.tryComplete("no answer from " + host + " within " + timeout.toSeconds() + "s")) {
                HttpClientRequest pending = request.get();
                if (pending != null) {
                    pending.reset();
                }
            }
        });
        dns.addresses(host).onComplete(found -> {
            if (found.failed()) {
                done.tryComplete(host + " does not resolve: " + found.cause().getMessage());
                return;
            }
            List<String> permitted = found.result().stream().filter(guard::permits).toList();
            if (permitted.isEmpty()) {
                done.tryComplete(host + (found.result().isEmpty() ? " has no address"
                        : " has only refused (private) addresses"));
                return;
            }
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
                    .setURI(target).setServer(SocketAddress.inetSocketAddress(port, permitted.get(0)))
                    .setSsl(true).setFollowRedirects(false)
                    .putHeader("Content-Type", "application/tlsrpt+gzip");
            client.request(options).onComplete(created -> {
                if (created.failed()) {
                    done.tryComplete("cannot connect to " + host + ": " + created.cause().getMessage());
                    return;
                }
                HttpClientRequest req = created.result();
                request.set(req);
                if (done.future().isComplete()) {
                    req.reset();
                    return;
                }
                req.send(Buffer.buffer(gzippedReport)).onComplete(sent -> {
                    if (sent.failed()) {
                        done.tryComplete("POST to " + host + " failed: " + sent.cause().getMessage());
                        return;
                    }
                    int status = sent.result().statusCode();
                    done.tryComplete(status / 100 == 2 ? null : host + " answered HTTP " + status);
                    req.reset(); // the body is not read
                });
            });
        });
        return done.future().onComplete(v -> vertx.cancelTimer(timer));
    }

    public Future<Void> close() {
        return client.close();
    }
}
