package dev.relay.ingress.smtp.server;

import dev.relay.common.lifecycle.Drain;
import dev.relay.common.net.Cidr;
import dev.relay.ingress.auth.CredentialVerifier;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.ingress.events.IngressEvents;
import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.publish.KafkaInboundPublisher;
import dev.relay.ingress.publish.KafkaReadiness;
import dev.relay.ingress.rules.LiveRules;
import dev.relay.ingress.rules.LiveUsage;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.RateLimitGate;
import dev.relay.ingress.smtp.session.SessionSettings;
import dev.relay.ingress.smtp.session.SmtpSession;
import dev.relay.ingress.tls.ListenerCertificates;
import dev.relay.ingress.tls.TlsMaterial;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.NetServerOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts the three SMTP listeners on Vert.x event loops (one verticle instance per core, sharing the ports)
 * when the application starts. Admission of a new connection: 421 4.3.2 while shutting down, 421 4.3.0 while
 * Kafka is unreachable (the readiness probe says the same), 421 4.7.0 beyond the connection limits. On shutdown
 * it stops admitting, closes idle sessions with 421 4.3.2, lets transactions in flight finish up to a grace
 * period, and only then stops the listeners.
 */
@ApplicationScoped
public class SmtpServer {

    private static final Logger LOG = Logger.getLogger(SmtpServer.class);

    private final Vertx vertx;
    private final IngressConfig config;
    private final SessionSettings settings;
    private final ListenerCertificates tls;
    private final ConnectionServices services;
    private final KafkaReadiness readiness;
    private final ConnectionLimiter limiter;
    private final Set<SmtpConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Listener> proxied = EnumSet.noneOf(Listener.class);
    private final List<Cidr> proxyNetworks = new ArrayList<>();
    private final Map<Listener, Integer> boundPorts = new EnumMap<>(Listener.class);
    private volatile boolean accepting = true;
    private String deploymentId;

    public SmtpServer(Vertx vertx, IngressConfig config, LiveRules rules, LiveUsage usage,
                      CredentialVerifier credentials,
                      KafkaInboundPublisher publisher, IngressMetrics metrics, KafkaReadiness readiness,
                      ListenerCertificates certificates, IngressEvents events) {
        this.vertx = vertx;
        this.config = config;
        this.readiness = readiness;
        config.proxyProtocol().listeners().stream().filter(l -> !l.equals("none"))
                .forEach(l -> proxied.add(Listener.valueOf(l.trim().toUpperCase(Locale.ROOT))));
        config.proxyProtocol().trustedNetworks().stream().filter(n -> !n.equals("none"))
                .forEach(n -> proxyNetworks.add(Cidr.parse(n)));
        IngressConfig.Smtp smtp = config.smtp();
        this.services = new ConnectionServices(vertx, credentials, publisher, events, metrics,
                new ConnectionTimeouts(smtp.commandTimeout(), smtp.dataTimeout(), smtp.minDataRate(),
                        smtp.minDataRateWindow(), smtp.maxMessageDuration()), smtp.maxPipelinedBytes());
        this.limiter = new ConnectionLimiter(smtp.maxConnections(), smtp.maxConnectionsPerClient(),
                smtp.clientIpv6Prefix());
        this.tls = certificates;
        this.settings = new SessionSettings(config.serverName(), smtp.maxMessageSize(), smtp.maxRecipients(),
                smtp.maxErrors(), smtp.maxLineLength(), smtp.maxHeaderSize(), smtp.maxHops(), tls.available(),
                rules, new MemoryBudget(smtp.maxBufferedBytes(), smtp.maxBufferedBytesPerClient()), new RateLimitGate(usage, Clock.systemUTC()));
        metrics.memoryReserved(settings.memory()::used);
    }

    void onStart(@Observes StartupEvent event) throws Exception {
        int instances = config.smtp().instances() > 0 ? config.smtp().instances()
                : Runtime.getRuntime().availableProcessors();
        // Port 0 (tests) is not shared between verticle instances: use one instance then.
        boolean ephemeral = config.smtp().relayPort() == 0 || config.smtp().submissionPort() == 0
                || config.smtp().submissionsPort() == 0;
        deploymentId = vertx.deployVerticle(ListenerVerticle::new,
                        new DeploymentOptions().setInstances(ephemeral ? 1 : instances))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        LOG.infof("SMTP listening: relay=%d submission=%d submissions=%d (tls %s)", port(Listener.RELAY),
                port(Listener.SUBMISSION), port(Listener.SUBMISSIONS), tls.available() ? "on" : "off");
    }

    void onStop(@Observes ShutdownEvent event) throws Exception {
        accepting = false;
        LOG.infof("SMTP shutting down: draining %d session(s)", connections.size());
        connections.forEach(SmtpConnection::drain);
        Drain.await(connections::size, config.smtp().shutdownGrace(), 50);
        if (!connections.isEmpty()) {
            LOG.warnf("closing %d session(s) still busy after the shutdown grace period", connections.size());
        }
        if (deploymentId != null) {
            vertx.undeploy(deploymentId).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private void accept(NetSocket socket, Listener listener) {
        String peer = socket.remoteAddress().hostAddress();
        if (!proxied.contains(listener)) {
            admit(socket, listener, peer, Buffer.buffer());
            return;
        }
        if (proxyNetworks.stream().noneMatch(n -> n.contains(peer))) {
            LOG.warnf("refusing connection from %s: not a trusted load balancer for PROXY protocol", peer);
            socket.close();
            return;
        }
        socket.pause();
        ProxyHeaderReader.read(vertx, socket, peer, (client, rest) -> {
            if (!listener.implicitTls()) {
                admit(socket, listener, client, rest);
            } else if (rest.length() > 0) {
                // the TLS ClientHello arrived in the same read as the header: Vert.x cannot replay it into TLS
                LOG.warnf("refusing %s: TLS bytes arrived together with the PROXY header", client);
                socket.close();
            } else {
                socket.upgradeToSsl(done -> {
                    if (done.succeeded()) {
                        admit(socket, listener, client, Buffer.buffer());
                    } else {
                        socket.close();
                    }
                });
            }
        });
        socket.resume();
    }

    private void admit(NetSocket socket, Listener listener, String client, Buffer early) {
        Reply refusal = !accepting ? Replies.SHUTTING_DOWN
                : !readiness.ready() ? Replies.NOT_READY
                : !limiter.tryAcquire(client) ? Replies.TOO_MANY_CONNECTIONS : null;
        if (refusal != null) {
            services.metrics().command("CONNECT", refusal.replyClass());
            socket.write(Buffer.buffer(refusal.toBytes())).onComplete(done -> socket.close());
            return;
        }
        SmtpConnection[] self = new SmtpConnection[1];
        ConnectionEvents events = new ConnectionEvents(services.events()::emit, listener, client,
                () -> tlsProtocol(socket), config.events().maxRefusalsPerSession());
        self[0] = new SmtpConnection(socket, new SmtpSession(settings, listener, client, events), listener, client,
                services, events, () -> {
                    connections.remove(self[0]);
                    limiter.release(client);
                    events.closed();
                });
        connections.add(self[0]);
        self[0].start(early);
    }

    /** The negotiated TLS protocol of the connection (e.g. TLSv1.3), null in plain text or mid-handshake. */
    private static String tlsProtocol(NetSocket socket) {
        if (!socket.isSsl()) {
            return null;
        }
        javax.net.ssl.SSLSession tls = socket.sslSession();
        return tls == null ? null : tls.getProtocol();
    }

    /** Message bytes held in memory across all sessions now (reserved in the shared budget). */
    public long bufferedBytes() {
        return settings.memory().used();
    }

    /** The port a listener is bound to (differs from the configuration when it was 0). */
    public int port(Listener listener) {
        synchronized (boundPorts) {
            return boundPorts.getOrDefault(listener, -1);
        }
    }

    private int configuredPort(Listener listener) {
        return switch (listener) {
            case RELAY -> config.smtp().relayPort();
            case SUBMISSION -> config.smtp().submissionPort();
            case SUBMISSIONS -> config.smtp().submissionsPort();
        };
    }

    private NetServerOptions options(Listener listener) {
        NetServerOptions options = new NetServerOptions()
                .setHost(config.bindHost())
                .setPort(configuredPort(listener))
                .setTcpNoDelay(true);
        // the key manager behind keyCertOptions serves a renewed certificate from the next handshake on
        tls.keyCertOptions().ifPresent(keyCert -> {
            TlsMaterial.CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
            options.setKeyCertOptions(keyCert)
                    .setEnabledSecureTransportProtocols(TlsMaterial.PROTOCOLS)
                    .setSsl(listener.implicitTls() && !proxied.contains(listener));
        });
        return options;
    }

    /** One event loop's share of the listeners. */
    private final class ListenerVerticle extends AbstractVerticle {

        @Override
        public void start(Promise<Void> started) {
            List<Future<NetServer>> servers = new ArrayList<>();
            for (Listener listener : Listener.values()) {
                if (listener.implicitTls() && !tls.available()) {
                    LOG.warn("no TLS certificate: the submissions (implicit TLS) listener is not started");
                    continue;
                }
                NetServer server = vertx.createNetServer(options(listener));
                server.connectHandler(socket -> accept(socket, listener));
                servers.add(server.listen().onSuccess(s -> {
                    synchronized (boundPorts) {
                        boundPorts.put(listener, s.actualPort());
                    }
                }));
            }
            Future.all(servers).<Void>mapEmpty().onComplete(started);
        }
    }
}
