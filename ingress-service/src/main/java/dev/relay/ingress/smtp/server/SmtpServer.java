package dev.relay.ingress.smtp.server;

import dev.relay.ingress.auth.KeycloakPasswordVerifier;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.common.rules.RulesConfig;
import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.publish.KafkaInboundPublisher;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.SessionSettings;
import dev.relay.ingress.smtp.session.SmtpSession;
import dev.relay.ingress.tls.TlsMaterial;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Starts the three SMTP listeners on Vert.x event loops (one verticle instance per core, sharing the ports)
 * when the application starts, and stops accepting when it stops.
 */
@ApplicationScoped
public class SmtpServer {

    private static final Logger LOG = Logger.getLogger(SmtpServer.class);

    private final Vertx vertx;
    private final IngressConfig config;
    private final SessionSettings settings;
    private final Optional<TlsMaterial.PemFiles> tls;
    private final KeycloakPasswordVerifier verifier;
    private final KafkaInboundPublisher publisher;
    private final IngressMetrics metrics;
    private final Map<Listener, Integer> boundPorts = new EnumMap<>(Listener.class);
    private String deploymentId;

    public SmtpServer(Vertx vertx, IngressConfig config, RulesConfig rules, KeycloakPasswordVerifier verifier,
                      KafkaInboundPublisher publisher, IngressMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.verifier = verifier;
        this.publisher = publisher;
        this.metrics = metrics;
        this.tls = TlsMaterial.resolve(config.tls(), config.serverName());
        this.settings = new SessionSettings(config.serverName(), config.smtp().maxMessageSize(),
                config.smtp().maxRecipients(), config.smtp().maxErrors(), tls.isPresent(), rules.toRules());
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
                port(Listener.SUBMISSION), port(Listener.SUBMISSIONS), tls.isPresent() ? "on" : "off");
    }

    void onStop(@Observes ShutdownEvent event) {
        if (deploymentId != null) {
            vertx.undeploy(deploymentId);
        }
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
                .setIdleTimeout((int) config.smtp().idleTimeout().toSeconds())
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setTcpNoDelay(true);
        tls.ifPresent(pem -> options
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(pem.certFile()).setKeyPath(pem.keyFile()))
                .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
                .setSsl(listener.implicitTls()));
        return options;
    }

    /** One event loop's share of the listeners. */
    private final class ListenerVerticle extends AbstractVerticle {

        @Override
        public void start(Promise<Void> started) {
            List<Future<NetServer>> servers = new ArrayList<>();
            for (Listener listener : Listener.values()) {
                if (listener.implicitTls() && tls.isEmpty()) {
                    LOG.warn("no TLS certificate: the submissions (implicit TLS) listener is not started");
                    continue;
                }
                NetServer server = vertx.createNetServer(options(listener));
                server.connectHandler(socket -> new SmtpConnection(socket,
                        new SmtpSession(settings, listener, socket.remoteAddress().hostAddress()),
                        listener, verifier, publisher, metrics).start());
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
