package dev.relay.ingress.publish;

import dev.relay.common.kafka.KafkaClients;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Default;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import io.smallrye.common.annotation.Identifier;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Whether Kafka is reachable, checked every few seconds off the event loop. One answer serves both the readiness
 * probe (so Kubernetes stops sending traffic) and the SMTP listeners (421 at connect while not ready), so the
 * two never disagree.
 */
@Readiness
@Default // also injectable where the listeners need the answer
@ApplicationScoped
public class KafkaReadiness implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(KafkaReadiness.class);
    private static final long INTERVAL_MS = 2000;

    private final Vertx vertx;
    private final Map<String, Object> kafka;
    private volatile boolean reachable;
    private volatile String detail = "not checked yet";
    private Admin admin;
    private long timer = -1;

    /** @param kafka every {@code kafka.*} property, security settings included */
    public KafkaReadiness(Vertx vertx, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.vertx = vertx;
        this.kafka = kafka;
    }

    void onStart(@Observes StartupEvent event) {
        Properties props = KafkaClients.settings(kafka);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "relay-ingress-readiness");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        admin = Admin.create(props);
        check();
        timer = vertx.setPeriodic(INTERVAL_MS, id -> vertx.executeBlocking(() -> {
            check();
            return null;
        }, false));
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (admin != null) {
            admin.close();
        }
    }

    private void check() {
        try {
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2500)).nodes()
                    .get(3, TimeUnit.SECONDS).size();
            if (!reachable) {
                LOG.infof("Kafka reachable (%d node(s)): ready", nodes);
            }
            reachable = nodes > 0;
            detail = nodes + " node(s)";
        } catch (Exception e) {
            if (reachable) {
                LOG.warnf("Kafka unreachable, not ready: %s", e.toString());
            }
            reachable = false;
            detail = e.getClass().getSimpleName();
        }
    }

    public boolean ready() {
        return reachable;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("kafka").status(reachable).withData("cluster", detail).build();
    }
}
