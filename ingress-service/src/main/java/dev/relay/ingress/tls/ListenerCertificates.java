package dev.relay.ingress.tls;

import dev.relay.ingress.config.IngressConfig;
import dev.relay.ingress.metrics.IngressMetrics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.net.KeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The certificate the SMTP listeners serve: loaded and checked at start (an invalid pair stops the start), then,
 * for configured files, looked at every {@code relay.ingress.tls.reload-period} on a thread of its own (file reads
 * and key parsing never run on an event loop), so that a renewal (cert-manager rewriting the Secret) reaches new
 * sessions without a restart. The generated development certificate is not watched.
 */
@ApplicationScoped
public class ListenerCertificates {

    private static final Logger LOG = Logger.getLogger(ListenerCertificates.class);

    private final Optional<ReloadingKeyManager> keyManager;
    private final CertificateReloader reloader;
    private final Duration period;
    private ScheduledExecutorService poller;

    public ListenerCertificates(IngressConfig config, IngressMetrics metrics) {
        Optional<TlsMaterial.PemFiles> files = TlsMaterial.resolve(config.tls(), config.serverName());
        if (files.isEmpty()) {
            keyManager = Optional.empty();
            reloader = null;
            period = Duration.ZERO;
            return;
        }
        Path certificate = Path.of(files.get().certFile());
        Path key = Path.of(files.get().keyFile());
        CertificateReloader.Content content;
        TlsIdentity identity;
        try {
            content = CertificateReloader.read(certificate, key);
            identity = TlsIdentity.parse(content.certificate(), content.key(), Clock.systemUTC().instant());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the listener certificate or key", e);
        } catch (TlsIdentity.Invalid e) {
            throw new IllegalStateException("listener certificate " + certificate + " and key " + key
                    + " cannot be served: " + e.getMessage());
        }
        java.util.Arrays.fill(content.key(), (byte) 0);
        ReloadingKeyManager manager = new ReloadingKeyManager(identity);
        keyManager = Optional.of(manager);
        metrics.tlsCertificateExpiry(() -> manager.served().notAfter().getEpochSecond());
        Duration configured = config.tls().reloadPeriod();
        period = files.get().generated() || configured.isNegative() ? Duration.ZERO : configured;
        if (period.isZero()) {
            reloader = null;
            return;
        }
        metrics.tlsReloadsRegistered();
        reloader = new CertificateReloader(certificate, key, manager, Clock.systemUTC(),
                new CertificateReloader.Outcome() {
                    @Override
                    public void reloaded(TlsIdentity served) {
                        metrics.tlsReload(true);
                    }

                    @Override
                    public void refused(String reason) {
                        metrics.tlsReload(false);
                    }
                }, content.fingerprint());
    }

    void onStart(@Observes StartupEvent event) {
        if (reloader == null) {
            return;
        }
        poller = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "relay-tls-reload");
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(1, period.toMillis());
        poller.scheduleWithFixedDelay(reloader::check, millis, millis, TimeUnit.MILLISECONDS);
        LOG.infof("watching the listener certificate files every %s", period);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (poller != null) {
            poller.shutdownNow();
        }
    }

    /** Whether TLS is available at all (configured files or a development certificate). */
    public boolean available() {
        return keyManager.isPresent();
    }

    /** For the listeners' {@code NetServerOptions}: every handshake asks the reloading key manager. */
    public Optional<KeyCertOptions> keyCertOptions() {
        return keyManager.map(KeyCertOptions::wrap);
    }

    /** The pair new handshakes get, when TLS is available. */
    public Optional<TlsIdentity> served() {
        return keyManager.map(ReloadingKeyManager::served);
    }
}
