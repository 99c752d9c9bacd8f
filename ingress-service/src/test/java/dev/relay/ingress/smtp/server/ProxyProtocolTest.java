package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay listener behind a load balancer speaking PROXY protocol, over real sockets. */
@QuarkusTest
@TestProfile(ProxyProtocolTest.BehindLoadBalancer.class)
@QuarkusTestResource(value = RelayInfraResource.class)
class ProxyProtocolTest {

    public static class BehindLoadBalancer implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.ingress.proxy-protocol.listeners", "relay",
                    "relay.ingress.proxy-protocol.trusted-networks", "127.0.0.0/8");
        }
    }

    @Inject
    SmtpServer server;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private static String readLine(InputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            sb.append((char) b);
        }
        return b == -1 && sb.length() == 0 ? null : sb.toString().trim();
    }

    @Test
    void shouldTakeTheClientAddressFromTheProxyHeader() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port(Listener.RELAY))) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write("PROXY TCP4 198.51.100.7 192.0.2.1 5000 25\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("220 ");
            out.write("HELO lb-test.example\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("250");
            out.write("MAIL FROM:<a@outside.example>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 3; i++) {
                assertThat(readLine(in)).matches("(250|354).*");
            }
            out.write("Subject: proxy\r\n\r\nx\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            String queued = readLine(in);
            assertThat(queued).startsWith("250 2.0.0");
            String id = queued.substring(queued.lastIndexOf(' ') + 1);
            var record = InboundRecords.find(bootstrap, id);
            Envelope envelope = EnvelopeCodec.decode(record.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.clientAddress()).isEqualTo("198.51.100.7");
            assertThat(new String(record.value(), StandardCharsets.UTF_8)).contains("([198.51.100.7])");
        }
    }

    @Test
    void shouldCloseConnectionsThatDoNotStartWithAProxyHeader() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port(Listener.RELAY))) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("EHLO direct.example\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(socket.getInputStream())).as("no greeting, just closed").isNull();
        }
    }

    @Test
    void shouldStillServeListenersWithoutProxyProtocol() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port(Listener.SUBMISSION))) {
            socket.setSoTimeout(10_000);
            assertThat(readLine(socket.getInputStream())).startsWith("220 ");
        }
    }
}
