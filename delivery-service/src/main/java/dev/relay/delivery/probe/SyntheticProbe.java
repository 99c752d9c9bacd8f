package dev.relay.delivery.probe;

import dev.relay.common.envelope.Route;
import dev.relay.delivery.config.ProbeConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The synthetic probe (docs/adr/0022): every {@code relay.probe.interval} it does what an application does, end
 * to end: a client-credentials token from Keycloak for the {@code relay-probe} client, a submission with STARTTLS
 * and XOAUTH2 through the public submission listener (vertx-mail-client), then it follows the events topic until
 * the message is {@code delivered}. The recipient, unique per probe, is in the built-in discard domain, so the
 * message leaves nothing behind. Success, latency and the last success time are metrics ({@link ProbeMetrics}).
 *
 * <p>Bounded: one probe at a time on a thread of its own (never an event loop), each step and the whole probe
 * within {@code relay.probe.timeout}; a failure is counted and logged, never rethrown, and the next probe comes
 * after the interval as usual.
 */
@ApplicationScoped
public class SyntheticProbe {

    private static final Logger LOG = Logger.getLogger(SyntheticProbe.class);

    private final ProbeConfig config;
    private final Vertx vertx;
    private final ProbeMetrics metrics;
    private final String bootstrap;
    private final String eventsTopic;
    private ScheduledExecutorService runner;

    @Inject
    public SyntheticProbe(ProbeConfig config, Vertx vertx, MeterRegistry registry,
                          @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                          @ConfigProperty(name = "mp.messaging.outgoing.events-out.topic",
                                  defaultValue = "relay.events.v1") String eventsTopic) {
        this.config = config;
        this.vertx = vertx;
        this.metrics = config.enabled() ? new ProbeMetrics(registry) : null;
        this.bootstrap = bootstrap;
        this.eventsTopic = eventsTopic;
    }

    void onStart(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        if (config.tokenUrl().isEmpty() || config.clientSecret().isEmpty()) {
            throw new IllegalStateException("relay.probe.enabled needs relay.probe.token-url and "
                    + "relay.probe.client-secret");
        }
        runner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relay-probe");
            t.setDaemon(true);
            return t;
        });
        long interval = config.interval().toMillis();
        runner.scheduleWithFixedDelay(this::runOnce, interval, interval, TimeUnit.MILLISECONDS);
        LOG.infof("synthetic probe on: every %s to %s:%d", config.interval(), config.submissionHost(),
                config.submissionPort());
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        if (runner != null) {
            runner.shutdownNow();
            runner.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** One probe, blocking (the probe's thread; tests). Never throws: the outcome is in the metrics. */
    public ProbeMetrics.Stage runOnce() {
        long start = System.nanoTime();
        long deadline = start + config.timeout().toNanos();
        String recipient = "probe-" + UUID.randomUUID() + "@" + Route.DISCARD_DOMAIN;
        try {
            String token = new TokenClient(URI.create(config.tokenUrl().orElseThrow()), config.clientId(),
                    config.clientSecret().orElseThrow(), left(deadline)).token();
            try (EventWatch watch = new EventWatch(bootstrap, eventsTopic, left(deadline))) {
                long submitted = System.nanoTime();
                submit(token, recipient, deadline);
                String queueId = watch.awaitDelivered(recipient, deadline);
                Duration took = Duration.ofNanos(System.nanoTime() - submitted);
                metrics.succeeded(took, System.currentTimeMillis() / 1000);
                LOG.infof("probe delivered: queue id %s in %d ms", queueId, took.toMillis());
                return ProbeMetrics.Stage.DELIVERED;
            }
        } catch (ProbeFailure e) {
            metrics.failed(e.stage());
            LOG.warnf("probe failed (%s): %s", e.stage().name().toLowerCase(Locale.ROOT), e.getMessage());
            return e.stage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ProbeMetrics.Stage.ERROR;
        } catch (RuntimeException e) {
            metrics.failed(ProbeMetrics.Stage.ERROR);
            LOG.errorf(e, "probe failed unexpectedly");
            return ProbeMetrics.Stage.ERROR;
        }
    }

    /** The metrics (tests read them through the registry; here for the disabled case). */
    ProbeMetrics metrics() {
        return metrics;
    }

    private void submit(String token, String recipient, long deadline) throws ProbeFailure, InterruptedException {
        MailConfig mail = new MailConfig()
                .setHostname(config.submissionHost())
                .setPort(config.submissionPort())
                .setStarttls(StartTLSOptions.REQUIRED)
                .setLogin(LoginOption.XOAUTH2)
                .setAuthMethods("XOAUTH2")
                .setUsername(config.clientId())
                .setPassword(token)
                .setOwnHostname("relay-probe")
                .setKeepAlive(false)
                .setMaxPoolSize(1)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, left(deadline).toMillis()));
        config.trustCertificate().ifPresent(pem -> mail.setPemTrustOptions(new PemTrustOptions().addCertPath(pem)));
        MailMessage message = new MailMessage()
                .setFrom(config.sender())
                .setTo(recipient)
                .setSubject("Relay synthetic probe")
                .setText("Synthetic probe of the relay; discarded on delivery.\r\n")
                .addHeader("Auto-Submitted", "auto-generated");
        MailClient client = MailClient.create(vertx, mail);
        try {
            client.sendMail(message).toCompletionStage().toCompletableFuture()
                    .get(left(deadline).toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new ProbeFailure(ProbeMetrics.Stage.SUBMIT, "submission failed: " + e.getCause());
        } catch (TimeoutException e) {
            throw new ProbeFailure(ProbeMetrics.Stage.TIMEOUT, "submission not finished in time");
        } finally {
            client.close();
        }
    }

    private static Duration left(long deadline) throws ProbeFailure {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new ProbeFailure(ProbeMetrics.Stage.TIMEOUT, "out of time");
        }
        return Duration.ofNanos(left);
    }
}
