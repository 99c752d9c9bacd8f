package dev.relay.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The message trace across the three services and two policy instances (docs/adr/0020): mail sent through the
 * ingress (delivered; deferred then delivered; bounced) is traced by the queue id of its {@code 250}, and each
 * trace is answered by both policy instances — one of them holds it, the other asks it — and a search through
 * either finds every message. Real processes, the real Kafka and Keycloak.
 */
class TraceIT {

    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9A-Z]{20})");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldTraceEveryMessageThroughEitherPolicyInstance() throws Exception {
        KeycloakServer keycloak = KeycloakServer.shared();
        try (RelayCluster relay = new RelayCluster(KafkaBroker.shared().bootstrapServers(), keycloak.url());
             CaptureMx capture = CaptureMx.start(0, null)) {
            relay.createTopics();
            AtomicInteger retriedRcpts = new AtomicInteger();
            capture.setRcptReply(recipient -> {
                if (recipient.contains("gone-")) {
                    return "550 5.1.1 no such user";
                }
                if (recipient.contains("later-") && retriedRcpts.getAndIncrement() == 0) {
                    return "451 4.3.0 try again later";
                }
                return null;
            });
            int relayPort = RelayService.freePort();
            relay.launch("ingress-service", "ingress", relay.ingressEnv(relayPort, RelayService.freePort(),
                    RelayService.freePort()), RelayService.freePort());
            List<Integer> policyPorts = List.of(RelayService.freePort(), RelayService.freePort());
            for (int i = 0; i < 2; i++) {
                Map<String, String> env = relay.policyEnv();
                env.put("RELAY_POLICY_TRACE_ENDPOINT", "127.0.0.1:" + policyPorts.get(i));
                relay.launch("policy-service", "policy-" + (i + 1), env, policyPorts.get(i));
            }
            Map<String, String> deliveryEnv = relay.deliveryEnv();
            deliveryEnv.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port());
            relay.launch("delivery-service", "delivery", deliveryEnv, RelayService.freePort());
            for (RelayInstance instance : relay.started()) {
                instance.awaitReady(Duration.ofSeconds(120));
            }

            // addresses of this run: the suppression list of the shared broker remembers earlier runs' bounces
            String delivered = send(relayPort, "ok-" + relay.run + "@remote.example");
            String retried = send(relayPort, "later-" + relay.run + "@remote.example");
            String bounced = send(relayPort, "gone-" + relay.run + "@remote.example");
            // more messages, so that both instances hold some
            List<String> more = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                more.add(send(relayPort, "more" + i + "@remote.example"));
            }
            String token = keycloak.browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");

            for (int port : policyPorts) {
                JsonNode one = awaitStatus(port, delivered, "delivered", token);
                assertThat(types(one)).as(one.toString()).containsSubsequence("received", "routed", "delivered");
                assertThat(one.get("sender").asText()).as("from the ingress's received event")
                        .isEqualTo("app@example.test");
                JsonNode two = awaitStatus(port, retried, "delivered", token);
                assertThat(types(two)).as(two.toString()).containsSubsequence("routed", "deferred", "delivered");
                JsonNode three = awaitStatus(port, bounced, "bounced", token);
                assertThat(types(three)).as(three.toString()).containsSubsequence("routed", "bounced");
                assertThat(three.get("events").get(types(three).indexOf("bounced")).get("reason").asText())
                        .contains("550");
                for (String id : more) {
                    awaitStatus(port, id, "delivered", token);
                }
            }
            // each trace is held by exactly one instance (scope=local), and each instance holds some: the other
            // instance's answers above came from it
            Set<String> all = new HashSet<>(more);
            all.addAll(List.of(delivered, retried, bounced));
            Map<Integer, Integer> held = new java.util.HashMap<>();
            for (String id : all) {
                int holders = 0;
                for (int port : policyPorts) {
                    if (get(port, "/" + id + "?scope=local", token).statusCode() == 200) {
                        holders++;
                        held.merge(port, 1, Integer::sum);
                    }
                }
                assertThat(holders).as("instances holding " + id).isEqualTo(1);
            }
            assertThat(held).as("traces held per instance").hasSize(2);
            // each search through either instance finds every message (it asks the other instance for its part)
            for (int port : policyPorts) {
                List<String> found = new ArrayList<>();
                String cursor = null;
                int pages = 0;
                do {
                    JsonNode page = JSON.readTree(get(port, "?limit=4" + (cursor == null ? "" : "&cursor=" + cursor),
                            token).body());
                    page.get("items").forEach(item -> found.add(item.get("id").asText()));
                    cursor = page.hasNonNull("next") ? page.get("next").asText() : null;
                    pages++;
                } while (cursor != null && pages < 10);
                // (DSNs of the bounce, when the relay sends one, are messages of their own)
                assertThat(found).as("search through policy on port " + port).containsAll(all).doesNotHaveDuplicates();
                assertThat(pages).isGreaterThanOrEqualTo(3);
                JsonNode bouncedOnly = JSON.readTree(get(port, "?status=bounced", token).body());
                assertThat(bouncedOnly.get("items")).hasSize(1);
                assertThat(bouncedOnly.get("items").get(0).get("id").asText()).isEqualTo(bounced);
            }
            assertThat(get(policyPorts.get(0), "/" + delivered, null).statusCode()).isEqualTo(401);
        }
    }

    private static JsonNode awaitStatus(int port, String id, String status, String token) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
            HttpResponse<String> response = get(port, "/" + id, token);
            if (response.statusCode() != 200) {
                return false;
            }
            last[0] = JSON.readTree(response.body());
            return status.equals(last[0].get("status").asText());
        });
        return last[0];
    }

    private static List<String> types(JsonNode trace) {
        List<String> types = new ArrayList<>();
        trace.get("events").forEach(e -> types.add(e.get("type").asText()));
        return types;
    }

    private static HttpResponse<String> get(int port, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/messages"
                + path)).timeout(Duration.ofSeconds(30)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One message from the trusted network through the relay port; returns the queue id of its 250. */
    private static String send(int port, String recipient) throws Exception {
        try (SmtpTestClient smtp = SmtpTestClient.plain(port)) {
            smtp.reply();
            smtp.send("EHLO trace.example");
            assertThat(smtp.send("MAIL FROM:<app@example.test>")).as(smtp.transcript()).startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + recipient + ">")).as(smtp.transcript()).startsWith("250");
            assertThat(smtp.send("DATA")).as(smtp.transcript()).startsWith("354");
            String reply = smtp.send("From: <app@example.test>\r\nTo: <" + recipient + ">\r\nSubject: trace me\r\n"
                    + "\r\nfollowed through the trace API\r\n.");
            Matcher queued = QUEUED.matcher(reply);
            assertThat(queued.find()).as(smtp.transcript()).isTrue();
            smtp.send("QUIT");
            return queued.group(1);
        }
    }
}
