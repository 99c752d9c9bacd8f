package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.DeviceLogin;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tenants from Keycloak organisations and people's device-flow tokens, through the whole system with the real
 * Keycloak and the shipped realm: {@code team-member} of organisation {@code demo-team} (verified domain
 * {@code team.example.test}, unverified {@code unverified-team.example.test}) may send as any address of the
 * verified domain and is refused with the sender-binding replies elsewhere; a token obtained with the device
 * authorization grant by the public client {@code relay-mail} relays over XOAUTH2.
 */
class OrganizationTenantsIT {

    private static final String MEMBER = "team-member";
    private static final String MEMBER_PASSWORD = "team-member-password";
    /** Rules of this class's own (slice I2), so that no rule set left on relay.rules.v1 decides what we see. */
    private static final String RULES_TOPIC = "i2-" + UUID.randomUUID().toString().substring(0, 8) + ".rules";

    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static int submission;

    @BeforeAll
    static void startRelay() {
        KafkaBroker kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        kafka.createCompactedTopic(RULES_TOPIC);
        KeycloakServer keycloak = KeycloakServer.shared();
        capture = CaptureMx.start(0, null);
        submission = RelayService.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submission));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_RULES_TOPIC", RULES_TOPIC);
        ingress = RelayService.start("ingress-service", env);
        policy = RelayService.start("policy-service", Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_RULES_TOPIC", RULES_TOPIC));
        delivery = RelayService.start("delivery-service", Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port(),
                "RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true"));
    }

    @AfterAll
    static void stopRelay() {
        for (AutoCloseable c : new AutoCloseable[]{delivery, policy, ingress, capture}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next one must still be stopped
            }
        }
    }

    private static Session session(String mechanism, String envelopeFrom) {
        Properties props = new Properties();
        props.put("mail.smtp.host", "127.0.0.1");
        props.put("mail.smtp.port", String.valueOf(submission));
        props.put("mail.smtp.starttls.enable", "true");
        props.put("mail.smtp.starttls.required", "true");
        props.put("mail.smtp.ssl.trust", "*");
        props.put("mail.smtp.ssl.checkserveridentity", "false");
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.auth.mechanisms", mechanism);
        props.put("mail.smtp.connectiontimeout", "10000");
        props.put("mail.smtp.timeout", "30000");
        if (envelopeFrom != null) {
            props.put("mail.smtp.from", envelopeFrom);
        }
        return Session.getInstance(props);
    }

    private static MimeMessage message(Session session, String from, String subject) throws MessagingException {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(from));
        message.setRecipients(Message.RecipientType.TO, "friend@remote.example");
        message.setSubject(subject);
        message.setText("from a team onboarded as a Keycloak organisation\r\n");
        message.saveChanges();
        return message;
    }

    private static void send(Session session, String secret, MimeMessage message) throws MessagingException {
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect(MEMBER, secret);
            transport.sendMessage(message, message.getAllRecipients());
        }
    }

    private static void awaitCaptured(MimeMessage message) throws MessagingException {
        String messageId = message.getMessageID();
        await("message " + messageId + " at the capture MX").atMost(Duration.ofSeconds(90))
                .until(() -> capture.messages().stream().map(CapturedMessage::data)
                        .anyMatch(d -> new String(d, StandardCharsets.UTF_8).contains(messageId)));
    }

    @Test
    void shouldRelayAMembersMailFromItsOrganisationsVerifiedDomain() throws Exception {
        Session session = session("PLAIN", null);
        MimeMessage message = message(session, "release-notes@team.example.test", "I2 organisation sender");

        send(session, MEMBER_PASSWORD, message);

        awaitCaptured(message);
    }

    @Test
    void shouldRefuseAMemberSendingAsAnotherDomain() throws Exception {
        Session session = session("PLAIN", null);
        for (String from : new String[]{"someone@other.example.test", "x@unverified-team.example.test"}) {
            MimeMessage message = message(session, from, "I2 not the organisation's");
            assertThatThrownBy(() -> send(session, MEMBER_PASSWORD, message)).as(ingress.logTail())
                    .hasMessageContaining("553 5.7.1");
        }
        Session bound = session("PLAIN", "release-notes@team.example.test");
        MimeMessage header = message(bound, "ceo@other.example.test", "I2 header From not the organisation's");
        assertThatThrownBy(() -> send(bound, MEMBER_PASSWORD, header)).as(ingress.logTail())
                .hasMessageContaining("550 5.7.1");
    }

    @Test
    void shouldRelayWithAPersonsDeviceFlowTokenOverXoauth2() throws Exception {
        String token = DeviceLogin.accessToken(KeycloakServer.shared(), "relay-mail", MEMBER, MEMBER_PASSWORD);
        Session session = session("XOAUTH2", null);
        MimeMessage message = message(session, "device@team.example.test", "I2 device flow");

        send(session, token, message);

        awaitCaptured(message);
    }
}
