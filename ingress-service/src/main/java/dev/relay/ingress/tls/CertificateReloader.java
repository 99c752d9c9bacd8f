package dev.relay.ingress.tls;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One look at the certificate and key files per {@link #check()} (called periodically off the event loops): when
 * their content changed since the last look, the new pair is parsed and checked ({@link TlsIdentity#parse}) and
 * only then installed in the {@link ReloadingKeyManager}. A bad pair — half-written, key not matching, expired —
 * leaves the served certificate in place, is logged once at ERROR (until the content changes again) and counted
 * as a failure.
 *
 * <p>Kubernetes renews a Secret volume by pointing its {@code ..data} symlink at a new directory, so both files
 * change at once; other writers may replace one file and then the other. The files are read twice per look and a
 * look whose two reads differ is skipped (a write in progress), so a pair straddling two writes is judged only
 * once it is stable.
 */
public final class CertificateReloader {

    private static final Logger LOG = Logger.getLogger(CertificateReloader.class);
    /** A certificate chain or key file larger than this is not a certificate chain or key. */
    static final int MAX_FILE_BYTES = 1 << 20;

    /** What a look concluded, for the metrics. */
    public interface Outcome {
        void reloaded(TlsIdentity identity);

        void refused(String reason);
    }

    private final Path certificateFile;
    private final Path keyFile;
    private final ReloadingKeyManager target;
    private final Clock clock;
    private final Outcome outcome;
    /** Fingerprint of the content last judged (served or refused); null until the first look. */
    private String judged;

    /**
     * @param servedContent fingerprint ({@link #fingerprint()}) of the content the target serves now, so the first
     *                      look does not reload what start-up already loaded
     */
    public CertificateReloader(Path certificateFile, Path keyFile, ReloadingKeyManager target, Clock clock,
                               Outcome outcome, String servedContent) {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.target = target;
        this.clock = clock;
        this.outcome = outcome;
        this.judged = servedContent;
    }

    /** The content of both files, read now. */
    public record Content(byte[] certificate, byte[] key, String fingerprint) {
    }

    /** Reads both files (bounded) and fingerprints their content; an unreadable file has its own fingerprint. */
    public static Content read(Path certificateFile, Path keyFile) throws IOException {
        byte[] certificate = bounded(certificateFile);
        byte[] key = bounded(keyFile);
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(Integer.toString(certificate.length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            digest.update((byte) ':');
            digest.update(certificate);
            digest.update(key);
            return new Content(certificate, key, HexFormat.of().formatHex(digest.digest()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bounded(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new IOException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return bytes;
        }
    }

    /** One poll: reload when the content changed and the new pair is valid. Never throws. */
    public synchronized void check() {
        String fingerprint;
        Content content = null;
        String unreadable = null;
        try {
            Content first = read(certificateFile, keyFile);
            Content second = read(certificateFile, keyFile);
            if (!first.fingerprint().equals(second.fingerprint())) {
                wipe(first);
                wipe(second);
                LOG.debugf("certificate files changed while being read: looking again next period");
                return;
            }
            wipe(first);
            content = second;
            fingerprint = second.fingerprint();
        } catch (IOException e) {
            unreadable = e.getClass().getSimpleName() + ": " + e.getMessage();
            fingerprint = "unreadable " + unreadable;
        }
        if (fingerprint.equals(judged)) {
            if (content != null) {
                wipe(content);
            }
            return;
        }
        judged = fingerprint;
        if (unreadable != null) {
            refuse("cannot read the certificate or key file (" + unreadable + ")");
            return;
        }
        try {
            TlsIdentity identity = TlsIdentity.parse(content.certificate(), content.key(), clock.instant());
            target.install(identity);
            LOG.infof("listener certificate reloaded from %s: now serving %s", certificateFile,
                    TlsIdentity.describe(identity.leaf()));
            outcome.reloaded(identity);
        } catch (TlsIdentity.Invalid e) {
            refuse(e.getMessage());
        } catch (RuntimeException e) {
            refuse("cannot install the pair (" + e.getClass().getSimpleName() + ")");
        } finally {
            wipe(content);
        }
    }

    private void refuse(String reason) {
        LOG.errorf("listener certificate NOT reloaded from %s and %s: %s; still serving %s", certificateFile,
                keyFile, reason, TlsIdentity.describe(target.served().leaf()));
        outcome.refused(reason);
    }

    /** The key bytes are not kept around longer than the parse. */
    private static void wipe(Content content) {
        Arrays.fill(content.key(), (byte) 0);
    }
}
