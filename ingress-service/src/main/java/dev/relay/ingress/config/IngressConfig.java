package dev.relay.ingress.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * Every {@code relay.ingress.*} key; the README's configuration table lists them with these defaults.
 *
 * <p>This file is longer than the ingress's other files (about 300 lines) on purpose: it is the one list of the
 * service's keys, one method and one line of javadoc per key, grouped as the keys are; splitting it would make a
 * reader look in several places for what the ingress can be told.
 */
@ConfigMapping(prefix = "relay.ingress")
public interface IngressConfig {

    /** Name in the greeting, EHLO reply and Received: header. */
    @WithDefault("relay.localhost")
    String serverName();

    /** Address the SMTP listeners bind to. */
    @WithDefault("0.0.0.0")
    String bindHost();

    Smtp smtp();

    Tls tls();

    Keycloak keycloak();

    Publish publish();

    Events events();

    Auth auth();

    ProxyProtocol proxyProtocol();

    Organizations organizations();

    interface Smtp {
        /** Relay/MX listener (STARTTLS offered, AUTH after TLS). 0 picks a free port (tests). */
        @WithDefault("2525")
        int relayPort();

        /** Submission listener (STARTTLS, AUTH required). */
        @WithDefault("2587")
        int submissionPort();

        /** Submissions listener (implicit TLS, AUTH required). */
        @WithDefault("2465")
        int submissionsPort();

        /** Largest message accepted, in bytes; advertised with SIZE. */
        @WithDefault("10485760")
        long maxMessageSize();

        @WithDefault("100")
        int maxRecipients();

        /** Refused commands before 421 and disconnect. */
        @WithDefault("10")
        int maxErrors();

        /** Waiting for a command longer than this closes the session with 421 4.4.2 (RFC 5321 §4.5.3.2.7). */
        @WithDefault("5m")
        Duration commandTimeout();

        /** Waiting for more DATA/BDAT bytes longer than this closes the session with 421 4.4.2. */
        @WithDefault("10m")
        Duration dataTimeout();

        /**
         * Minimum bytes per second while a message is received, judged over each sliding
         * {@link #minDataRateWindow()} (not averaged from the start of the message, so that a client cannot send
         * fast and then trickle to hold its memory); 421 4.4.2 below it.
         */
        @WithDefault("256")
        int minDataRate();

        /** The window the minimum data rate is judged over; also the grace period at the start of a message. */
        @WithDefault("60s")
        Duration minDataRateWindow();

        /** Longest time from the first byte of a message (DATA or first BDAT) to its end; 421 4.4.2 beyond. */
        @WithDefault("30m")
        Duration maxMessageDuration();

        /**
         * Bytes a client may send ahead while its earlier commands are not answered yet (an AUTH check, a Kafka
         * publish or a TLS handshake in progress, or replies the client does not read); 421 4.7.0 and close beyond.
         */
        @WithDefault("32768")
        int maxPipelinedBytes();

        /**
         * Per-client limits key IPv6 clients by this prefix length (one site usually holds a whole /64); IPv4
         * clients are keyed by their address.
         */
        @WithDefault("64")
        int clientIpv6Prefix();

        /** Longest text line in message content, in octets including CRLF (RFC 5321 §4.5.3.1.6: 1000). */
        @WithDefault("1000")
        int maxLineLength();

        /** Largest header section, in octets; 552 5.3.4 beyond. */
        @WithDefault("262144")
        int maxHeaderSize();

        /** Most Received: headers a message may carry (ours included); 554 5.4.6 beyond (a mail loop). */
        @WithDefault("50")
        int maxHops();

        /** Message bytes held in memory across all sessions; beyond it 452 4.3.1. Keep well below the heap. */
        @WithDefault("268435456")
        long maxBufferedBytes();

        /**
         * Of those, what one client (its address, or its IPv6 /64) may hold at once; beyond it that client gets
         * 452 4.3.1 while others keep sending. A quarter of the default budget.
         */
        @WithDefault("67108864")
        long maxBufferedBytesPerClient();

        /** Event-loop instances serving the listeners; 0 means one per core. */
        @WithDefault("0")
        int instances();

        /** Open SMTP connections across all listeners; beyond it new clients get 421 4.7.0. */
        @WithDefault("2000")
        int maxConnections();

        /** Open SMTP connections from one client address; beyond it 421 4.7.0. */
        @WithDefault("50")
        int maxConnectionsPerClient();

        /** On shutdown: how long transactions in flight may take before their connections are closed. */
        @WithDefault("30s")
        Duration shutdownGrace();
    }

    interface Tls {
        /** PEM certificate chain; when absent a development certificate is generated. */
        Optional<String> certFile();

        /** PEM private key (PKCS#8, PKCS#1 or SEC 1) matching cert-file. */
        Optional<String> keyFile();

        /**
         * How often cert-file and key-file are looked at; a changed, valid pair is served to new TLS sessions
         * without a restart (a renewal). 0 turns it off; the generated development certificate is never watched.
         */
        @WithDefault("1m")
        Duration reloadPeriod();

        /** Generate a self-signed development certificate when no cert-file is given. */
        @WithDefault("true")
        boolean generateDevCertificate();

        /** Where the development certificate and key are written. */
        @WithDefault(".run/tls")
        String devCertificateDir();
    }

    interface Keycloak {
        @WithDefault("http://127.0.0.1:8180")
        String url();

        @WithDefault("relay")
        String realm();

        @WithDefault("relay-ingress")
        String clientId();

        /** The confidential client's secret; set it from the environment (RELAY_INGRESS_KEYCLOAK_CLIENT_SECRET). */
        @WithDefault("relay-ingress-dev-secret")
        String clientSecret();

        /** How long an AUTH may wait for Keycloak before answering 454 4.7.0. */
        @WithDefault("5s")
        Duration timeout();

        /** Expected {@code iss} of access tokens; default {@code <url>/realms/<realm>}. */
        Optional<String> issuer();

        /** Audience an access token must carry to be accepted for XOAUTH2/OAUTHBEARER. */
        @WithDefault("relay-ingress")
        String audience();

        /**
         * The clients ({@code azp}) whose access tokens XOAUTH2/OAUTHBEARER accept: a token another client obtained
         * (which may carry our audience through a mapper) is refused. {@code relay-mail} is the realm's public
         * client for people who get their token with the device flow (MFA, federated logins).
         */
        @WithDefault("relay-ingress,relay-mail")
        java.util.List<String> authorizedParties();

        /**
         * How long after it was issued ({@code iat}) an application's own access token (client-credentials grant)
         * is accepted for XOAUTH2/OAUTHBEARER, whatever its {@code exp}: tokens are verified locally, so this bounds
         * how long a token of a client disabled in Keycloak keeps working (ADR 0017). A session ends then too.
         */
        @WithDefault("5m")
        Duration applicationTokenMaxAge();
    }

    interface Auth {
        /**
         * Failed AUTH attempts from one client prefix (IPv4 address, IPv6 /64) per hour, cluster-wide, before AUTH
         * answers 454 4.7.0 without asking Keycloak.
         */
        @WithDefault("20")
        int maxFailuresPerClient();

        /** Failed AUTH attempts for one username from one client prefix per hour, cluster-wide. */
        @WithDefault("5")
        int maxFailuresPerUserClient();

        /**
         * Failed AUTH attempts for one username from anywhere per day, cluster-wide: the global ceiling. Keep twice
         * it below the realm's brute-force {@code failureFactor} (30). At the ceiling a cached correct password
         * is still accepted.
         */
        @WithDefault("12")
        int maxFailuresPerUser();

        /** Domains whose {@code user@domain} login names count as {@code user} for the throttle (the realm's). */
        Optional<java.util.List<String>> usernameDomains();

        /** How long a successful password check is remembered (keyed hash, never the password); at most 60 s. */
        @WithDefault("30s")
        Duration cacheTtl();

        /**
         * How long a password AUTH holds in a session: after it, the next MAIL answers 454 4.7.0 and the client
         * must AUTH again (token AUTH holds until the token's {@code exp}).
         */
        @WithDefault("15m")
        Duration sessionLifetime();
    }

    /**
     * Keycloak organisations: their verified domains, read with the admin API by a service account of its own
     * (ADR 0018) and shared by all AUTHs until {@link #refresh()}.
     */
    interface Organizations {
        /** false: organisations from tokens carry no domains (membership only, for rules naming organisations). */
        @WithDefault("true")
        boolean enabled();

        /** Confidential client whose service account may read organisations (realm-management manage-realm). */
        @WithDefault("relay-organizations")
        String clientId();

        /** Its secret; set it from the environment (RELAY_INGRESS_ORGANIZATIONS_CLIENT_SECRET). */
        @WithDefault("relay-organizations-dev-secret")
        String clientSecret();

        /** How long the organisations and their verified domains are used before they are read again. */
        @WithDefault("5m")
        Duration refresh();

        /** At most this many organisations are read (one admin API page); more are logged and ignored. */
        @WithDefault("1000")
        int maxOrganizations();
    }

    interface ProxyProtocol {
        /** Listeners (relay, submission, submissions) that expect a PROXY protocol v1/v2 header first. */
        @WithDefault("none")
        java.util.List<String> listeners();

        /** Load-balancer networks allowed to send PROXY headers; connections from elsewhere are refused. */
        @WithDefault("none")
        java.util.List<String> trustedNetworks();
    }

    /**
     * Lifecycle events of the ingress ({@code received}, {@code rejected}) on the events topic: best effort, after
     * the reply, never delaying or failing it (ADR 0019).
     */
    interface Events {
        /** Where they go; the policy and the delivery write to the same topic. */
        @WithDefault("relay.events.v1")
        String topic();

        /**
         * Events waiting for the events producer's thread; beyond it an event is dropped and counted
         * ({@code relay_ingress_events_dropped_total}), never queued without bound.
         */
        @WithDefault("1000")
        int queueCapacity();

        /** How long the events thread waits for Kafka (metadata, producer buffer) before it drops an event. */
        @WithDefault("5s")
        Duration maxBlock();

        /** Bytes the events producer may buffer (Kafka's {@code buffer.memory}); an event beyond is dropped. */
        @WithDefault("4194304")
        long bufferBytes();

        /**
         * Refusals reported per SMTP session; the ones beyond are counted and reported as one summary event when
         * the session ends, so that a client sending thousands of refused RCPTs cannot flood the topic.
         */
        @WithDefault("10")
        int maxRefusalsPerSession();
    }

    interface Publish {
        @WithDefault("relay.inbound.v1")
        String topic();

        /** How long the end of DATA may wait for Kafka's acknowledgement before answering 451 4.3.0. */
        @WithDefault("10s")
        Duration timeout();
    }
}
