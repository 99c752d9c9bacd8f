package dev.relay.ingress.tls;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The key manager behind every SMTP listener: each TLS handshake (implicit TLS on submissions, STARTTLS on relay
 * and submission) asks it for the certificate, so {@link #install} makes the next handshake on every listener
 * serve the new pair, while sessions already in TLS keep the one they negotiated.
 *
 * <p>Why not {@code NetServer.updateSSLOptions}: in this Vert.x (4.5) it hands the new context to connections
 * accepted afterwards only (each socket keeps the context provider of its accept), so a session accepted in plain
 * text before a renewal would STARTTLS with the old certificate; and the server stores the new provider as a
 * future before it is built, which connections accepted in the meantime read unfinished. Here the listeners'
 * SSL context never changes; only what this class answers does.
 *
 * <p>Every pair gets its own alias ({@code relay-<n>}); the alias chosen for a handshake keeps resolving to that
 * pair (the current or the previous one) even when a reload lands between choosing and reading the key.
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {

    private static final char[] IN_MEMORY = "relay-in-memory".toCharArray();

    /** One installed pair, and the JDK key manager that judges which handshakes it suits (key type, issuers). */
    private record Generation(String alias, TlsIdentity identity, X509ExtendedKeyManager chooser) {
    }

    private final AtomicLong counter = new AtomicLong();
    private volatile Generation current;
    private volatile Generation previous;

    public ReloadingKeyManager(TlsIdentity initial) {
        install(initial);
    }

    /** Serves {@code identity} from the next handshake on. */
    public synchronized void install(TlsIdentity identity) {
        String alias = "relay-" + counter.incrementAndGet();
        Generation next = new Generation(alias, identity, chooser(alias, identity));
        previous = current;
        current = next;
    }

    /** The pair new handshakes get. */
    public TlsIdentity served() {
        return current.identity();
    }

    private static X509ExtendedKeyManager chooser(String alias, TlsIdentity identity) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(alias, identity.key(), IN_MEMORY, identity.chain().toArray(X509Certificate[]::new));
            // SunX509 names entries by their keystore alias, which is what getPrivateKey is asked for afterwards
            KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
            factory.init(store, IN_MEMORY);
            return (X509ExtendedKeyManager) factory.getKeyManagers()[0];
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot hold the certificate in a key store: " + e.getMessage(), e);
        }
    }

    private Generation byAlias(String alias) {
        Generation now = current;
        if (now.alias().equals(alias)) {
            return now;
        }
        Generation before = previous;
        return before != null && before.alias().equals(alias) ? before : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return current.chooser().chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return current.chooser().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return current.chooser().getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Generation generation = byAlias(alias);
        return generation == null ? null : generation.identity().chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Generation generation = byAlias(alias);
        return generation == null ? null : generation.identity().key();
    }

    /** A server: never presents a client certificate. */
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
