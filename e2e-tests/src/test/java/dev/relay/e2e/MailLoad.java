package dev.relay.e2e;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Steady SMTP load against one ingress with the bookkeeping a reconciliation needs: which queue ids were answered
 * {@code 250}, how many attempts got a 4xx, how many connections broke (and whether after the final dot, where the
 * outcome is unknown to the client). Each client keeps its session for many messages and reconnects when it
 * breaks, as an MTA or an application would; a message that got a 4xx or a broken connection is sent again (a new
 * message number is not taken until it is accepted), so the load never gives up on a message.
 *
 * <p>Two kinds of client: <em>trusted</em> clients relay from a trusted network on the relay port without AUTH;
 * <em>authenticated</em> clients use the submission port with STARTTLS and AUTH PLAIN, authenticating once per
 * session (so a session that authenticated before a Keycloak outage keeps sending through it).
 */
final class MailLoad implements AutoCloseable {

    private static final Pattern QUEUED = Pattern.compile("^250 .*queued as ([0-9A-Z]{20})");

    /** Where and as whom a client sends. */
    record Client(String name, int port, boolean authenticated, String user, String password, String mailFrom) {
        static Client trusted(String name, int port, String mailFrom) {
            return new Client(name, port, false, null, null, mailFrom);
        }

        static Client authenticated(String name, int port, String user, String password, String mailFrom) {
            return new Client(name, port, true, user, password, mailFrom);
        }
    }

    /**
     * A message the relay answered 250 for.
     *
     * @param dataEndedAtMillis when the client sent the final dot (before it read the reply)
     */
    record Sent(int number, String client, String recipient, long acceptedAtMillis, long dataEndedAtMillis) {
        String domain() {
            return recipient.substring(recipient.indexOf('@') + 1);
        }
    }

    private final String run;
    private final IntFunction<String> recipientFor;
    private final Duration pace;
    private final List<Client> clients;
    private final ExecutorService threads;
    private final Map<String, Sent> accepted = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> tempFailures = new ConcurrentHashMap<>();
    private final AtomicInteger connectionErrors = new AtomicInteger();
    private final AtomicInteger unknownOutcome = new AtomicInteger();
    private final List<String> permanentFailures = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextNumber = new AtomicInteger();
    private volatile boolean running = true;
    private volatile boolean paused;
    private volatile int limit = Integer.MAX_VALUE;

    /**
     * @param recipientFor message number → recipient address (called again for a retried message, so a message can
     *                     move away from a destination the test took down; the number stays)
     */
    MailLoad(String run, List<Client> clients, IntFunction<String> recipientFor, Duration pace) {
        this.run = run;
        this.clients = List.copyOf(clients);
        this.recipientFor = recipientFor;
        this.pace = pace;
        this.threads = Executors.newFixedThreadPool(clients.size(), r -> {
            Thread t = new Thread(r, "mail-load");
            t.setDaemon(true);
            return t;
        });
    }

    /** Sends messages 0 … {@code messages - 1} only; {@link #awaitFinished} waits for them. */
    MailLoad limit(int messages) {
        this.limit = messages;
        return this;
    }

    /** Waits until every client finished (after {@link #limit}, or a permanent failure). */
    boolean awaitFinished(Duration timeout) throws InterruptedException {
        threads.shutdown();
        return threads.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    MailLoad start() {
        clients.forEach(c -> threads.execute(() -> runClient(c)));
        return this;
    }

    /** Stops taking new message numbers; the message each client is on is finished (or given up after 60 s). */
    void stop(Duration timeout) throws InterruptedException {
        running = false;
        threads.shutdown();
        if (!threads.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            threads.shutdownNow();
        }
    }

    void pause(boolean pause) {
        this.paused = pause;
    }

    Map<String, Sent> accepted() {
        return Map.copyOf(accepted);
    }

    int acceptedCount() {
        return accepted.size();
    }

    /** 4xx replies seen by clients, by code (e.g. "451", "421", "454"). */
    Map<String, Integer> tempFailures() {
        Map<String, Integer> copy = new java.util.TreeMap<>();
        tempFailures.forEach((code, n) -> copy.put(code, n.get()));
        return copy;
    }

    int tempFailed() {
        return tempFailures.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    int connectionErrors() {
        return connectionErrors.get();
    }

    int unknownOutcome() {
        return unknownOutcome.get();
    }

    List<String> permanentFailures() {
        return List.copyOf(permanentFailures);
    }

    @Override
    public void close() {
        running = false;
        threads.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------------------

    private void runClient(Client client) {
        int number = -1;
        SmtpDialogue session = null;
        while (running || number >= 0) {
            if (paused && number < 0) {
                sleep(Duration.ofMillis(100));
                continue;
            }
            if (number < 0) {
                number = nextNumber.getAndIncrement();
                if (number >= limit) {
                    break;
                }
            }
            try {
                if (session == null) {
                    session = open(client);
                }
                if (session != null && sendOne(session, client, number)) {
                    number = -1;
                    sleep(pace);
                    continue;
                }
            } catch (IOException e) {
                connectionErrors.incrementAndGet();
            }
            if (!permanentFailures.isEmpty()) {
                break; // the test reports it; retrying a permanent refusal would only hide it
            }
            closeQuietly(session);
            session = null;
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            sleep(Duration.ofMillis(250));
        }
        closeQuietly(session);
    }

    /** A ready session (greeted, EHLO done, TLS and AUTH if the client needs them), or null after a 4xx. */
    private SmtpDialogue open(Client client) throws IOException {
        SmtpDialogue smtp = new SmtpDialogue(client.port());
        try {
            String reply = smtp.reply();
            if (reply.startsWith("220")) {
                reply = smtp.send("EHLO " + client.name() + "." + run + ".example");
            }
            if (reply.startsWith("250") && client.authenticated()) {
                reply = smtp.startTls();
                if (reply.startsWith("220")) {
                    reply = smtp.send("EHLO " + client.name() + "." + run + ".example");
                }
                if (reply.startsWith("250")) {
                    reply = smtp.authPlain(client.user(), client.password());
                }
            }
            if (reply.startsWith("250") || reply.startsWith("235")) {
                return smtp;
            }
            outcome(reply, false, "session setup for " + client.name(), smtp);
        } catch (IOException e) {
            closeQuietly(smtp);
            throw e;
        }
        closeQuietly(smtp);
        return null;
    }

    /** One transaction; true when accepted. A reply other than the expected one ends the session. */
    private boolean sendOne(SmtpDialogue smtp, Client client, int number) throws IOException {
        String recipient = recipientFor.apply(number);
        String reply = smtp.send("MAIL FROM:<" + client.mailFrom() + ">");
        if (reply.startsWith("250")) {
            reply = smtp.send("RCPT TO:<" + recipient + ">");
        }
        if (reply.startsWith("250")) {
            reply = smtp.send("DATA");
        }
        boolean afterDot = false;
        long dataEndedAt = 0;
        if (reply.startsWith("354")) {
            afterDot = true;
            dataEndedAt = System.currentTimeMillis();
            reply = smtp.send("From: <" + client.mailFrom() + ">\r\nTo: <" + recipient + ">\r\nSubject: " + run
                    + " message " + number + "\r\nX-Load-Message: " + number + "\r\n\r\nmessage " + number
                    + " from " + client.name() + "\r\n.");
            Matcher queued = QUEUED.matcher(reply);
            if (queued.find()) {
                accepted.put(queued.group(1), new Sent(number, client.name(), recipient, System.currentTimeMillis(),
                        dataEndedAt));
                return true;
            }
        }
        outcome(reply, afterDot, "message " + number + " to " + recipient, smtp);
        if (!reply.startsWith("<closed>")) {
            try {
                smtp.send("RSET");
            } catch (IOException ignored) {
                // the session is dropped below anyway
            }
        }
        return false;
    }

    private void outcome(String reply, boolean afterDot, String what, SmtpDialogue smtp) {
        if (reply.startsWith("<closed>")) {
            (afterDot ? unknownOutcome : connectionErrors).incrementAndGet();
        } else if (reply.startsWith("4")) {
            tempFailures.computeIfAbsent(reply.substring(0, 3), k -> new AtomicInteger()).incrementAndGet();
        } else {
            permanentFailures.add(what + ": " + reply.trim() + "\n" + smtp.transcript());
            running = false; // a permanent refusal is a test or relay bug: stop and let the test report it
        }
    }

    private static void closeQuietly(SmtpDialogue smtp) {
        if (smtp != null) {
            try {
                smtp.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Client names, for logs. */
    List<String> clientNames() {
        List<String> names = new ArrayList<>();
        clients.forEach(c -> names.add(c.name() + (c.authenticated() ? "(auth)" : "(trusted)")));
        return names;
    }
}
