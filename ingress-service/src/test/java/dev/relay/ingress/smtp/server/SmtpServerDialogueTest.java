package dev.relay.ingress.smtp.server;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Dialogues over real sockets with the real Kafka broker behind (port 0 listeners). */
@QuarkusTest
@QuarkusTestResource(RelayInfraResource.class)
class SmtpServerDialogueTest {

    @Inject
    SmtpServer server;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    /** A raw client: writes bytes exactly, reads one reply (all its lines). */
    private static final class Client implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(15000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        String reply() throws IOException {
            StringBuilder all = new StringBuilder();
            while (true) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int b;
                while ((b = in.read()) != -1 && b != '\n') {
                    line.write(b);
                }
                String text = line.toString(StandardCharsets.UTF_8).replace("\r", "");
                all.append(text).append('\n');
                if (b == -1 || text.length() < 4 || text.charAt(3) != '-') {
                    return all.toString();
                }
            }
        }

        void write(String raw) throws IOException {
            out.write(raw.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String send(String line) throws IOException {
            write(line + "\r\n");
            return reply();
        }

        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void shouldAcceptMailForALocalDomainAndPublishItsExactBytes() throws Exception {
        String body = "Subject: dialogue\r\n\r\nGr\u00fc\u00dfe\r\n..dot\r\n";
        String reply;
        try (Client c = new Client(server.port(Listener.RELAY))) {
            assertThat(c.reply()).startsWith("220 ");
            c.send("EHLO client.example");
            c.send("MAIL FROM:<sender@outside.example> BODY=8BITMIME");
            c.send("RCPT TO:<postmaster@example.test>");
            assertThat(c.send("DATA")).startsWith("354");
            reply = c.send(body + ".");
            assertThat(c.send("QUIT")).startsWith("221");
        }
        assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
        String id = reply.trim().substring(reply.lastIndexOf(' ') + 1).trim();

        ConsumerRecord<String, byte[]> record = InboundRecords.find(bootstrap, id);
        Envelope envelope = EnvelopeCodec.decode(record.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
        assertThat(envelope.messageId()).isEqualTo(id);
        assertThat(envelope.mailFrom()).isEqualTo("sender@outside.example");
        assertThat(envelope.recipients()).containsExactly("postmaster@example.test");
        assertThat(envelope.body()).isEqualTo("8BITMIME");
        String stored = new String(record.value(), StandardCharsets.UTF_8);
        assertThat(stored).startsWith("Received: from client.example").endsWith("\r\n" + body.replace("..dot", ".dot"));
    }

    @Test
    void shouldAnswerPipelinedCommandsInOrder() throws Exception {
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            c.write("MAIL FROM:<a@outside.example>\r\nRCPT TO:<victim@remote.example>\r\n"
                    + "RCPT TO:<postmaster@example.test>\r\nDATA\r\n");
            assertThat(c.reply()).startsWith("250 2.1.0");
            assertThat(c.reply()).startsWith("554 5.7.1");
            assertThat(c.reply()).startsWith("250 2.1.5");
            assertThat(c.reply()).startsWith("354");
            c.write("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0");
            assertThat(c.reply()).startsWith("221");
        }
    }

    @Test
    void shouldRefuseBareLineFeedsInCommandsAndSmugglingInData() throws Exception {
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.reply();
            c.write("EHLO client.example\n");
            assertThat(c.reply()).startsWith("500 5.5.2");
            assertThat(c.in.read()).as("a bare LF in a command closes the session").isEqualTo(-1);
        }
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            c.send("MAIL FROM:<a@outside.example>");
            c.send("RCPT TO:<postmaster@example.test>");
            c.send("DATA");
            // LF.LF must not end the data: the smuggled MAIL is content, and the message is refused at the real end
            c.write("Subject: s\r\n\r\nx\n.\nMAIL FROM:<evil@outside.example>\r\n.\r\n");
            assertThat(c.reply()).startsWith("550 5.5.2");
            assertThat(c.send("NOOP")).startsWith("250");
        }
    }

    @Test
    void shouldDiscardCommandsPipelinedBehindStartTls() throws Exception {
        try (Client c = new Client(server.port(Listener.SUBMISSION))) {
            c.reply();
            c.send("EHLO client.example");
            c.write("STARTTLS\r\nNOOP\r\n");
            assertThat(c.reply()).startsWith("220 2.0.0");
            // the server now expects a TLS ClientHello; the pipelined NOOP must never be answered in plain text
            c.socket.setSoTimeout(1500);
            assertThatThrownBy(() -> c.in.read()).isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void shouldDisconnectUnauthenticatedClientsThatPipelineAfterEhlo() throws Exception {
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.reply();
            c.write("EHLO spammer.example\r\nMAIL FROM:<a@outside.example>\r\n");
            assertThat(c.reply()).startsWith("554 5.5.0");
            assertThat(c.in.read()).as("closed").isEqualTo(-1);
        }
    }

    @Test
    void shouldRefuseWeakCipherSuitesOnImplicitTls() throws Exception {
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.2");
        context.init(null, new javax.net.ssl.TrustManager[]{new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {
            }

            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket weak = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket("127.0.0.1", server.port(Listener.SUBMISSIONS))) {
            weak.setEnabledProtocols(new String[]{"TLSv1.2"});
            weak.setEnabledCipherSuites(new String[]{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"});
            assertThatThrownBy(weak::startHandshake).isInstanceOf(java.io.IOException.class);
        }
        try (javax.net.ssl.SSLSocket strong = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket("127.0.0.1", server.port(Listener.SUBMISSIONS))) {
            strong.setEnabledProtocols(new String[]{"TLSv1.2"});
            strong.startHandshake();
            assertThat(strong.getSession().getCipherSuite())
                    .matches("TLS_ECDHE_ECDSA_WITH_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)");
        }
    }

    @Test
    void shouldNotOfferAuthBeforeTls() throws Exception {
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.reply();
            String ehlo = c.send("EHLO client.example");
            assertThat(ehlo).contains("STARTTLS").doesNotContain("AUTH");
            assertThat(c.send("AUTH PLAIN AGRlbW8AZGVtby1wYXNzd29yZA==")).startsWith("538 5.7.11");
        }
    }

    @Test
    void shouldRefuseConnectionsBeyondThePerClientLimit() throws Exception {
        List<Client> open = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) { // %test limit: 8 per client address
                Client c = new Client(server.port(Listener.RELAY));
                assertThat(c.reply()).startsWith("220 ");
                open.add(c);
            }
            try (Client refused = new Client(server.port(Listener.RELAY))) {
                assertThat(refused.reply()).startsWith("421 4.7.0");
            }
            open.remove(0).close();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (Client again = new Client(server.port(Listener.RELAY))) {
                    assertThat(again.reply()).startsWith("220 ");
                }
            });
        } finally {
            for (Client c : open) {
                c.close();
            }
        }
    }
}
