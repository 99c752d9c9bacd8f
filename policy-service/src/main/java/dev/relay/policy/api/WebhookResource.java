package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.webhook.DeadLetter;
import dev.relay.policy.webhook.Subscription;
import dev.relay.policy.webhook.WebhookCodec;
import dev.relay.policy.webhook.WebhookStore;
import io.quarkus.security.Authenticated;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The webhook subscriptions (docs/adr/0021), authorised like the rules API: a Keycloak bearer token (none: 401) and
 * Keycloak's permission on the admin resource, realm role relay-admin ({@link KeycloakPermissionPolicy}; not
 * granted: 403).
 * <ul>
 *   <li>{@code POST /api/webhooks} {@code {"url":..,"events":[..],"secret":..}}: 201 with the subscription
 *       (without its secret); {@code events} absent, empty or {@code ["all"]}: every event type;</li>
 *   <li>{@code GET /api/webhooks}: every subscription, never a secret;</li>
 *   <li>{@code DELETE /api/webhooks/{id}}: writes the tombstone (204), 404 when unknown;</li>
 *   <li>{@code GET /api/webhooks/{id}/dead-letters}: the latest events given up on (at most
 *       {@code relay.policy.webhooks.max-dead-letters}), oldest first.</li>
 * </ul>
 * Bad input (a URL that is not https, an unknown event type, a secret shorter than 16 characters, one subscription
 * beyond {@code max-subscriptions}) answers 400 with {@code {"message": ...}} and changes nothing. The secret is
 * never echoed, in an answer or a log line.
 */
@Path("/api/webhooks")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class WebhookResource {

    static final int MAX_URL = 2000;
    static final int MIN_SECRET = 16;
    static final int MAX_SECRET = 512;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WebhookStore store;
    private final PolicyConfig.WebhookSettings settings;

    public WebhookResource(WebhookStore store, PolicyConfig config) {
        this.store = store;
        this.settings = config.webhooks();
    }

    @GET
    public List<Subscription.View> list() {
        return store.all().stream().map(Subscription::view).toList();
    }

    @DELETE
    @Path("{id}")
    public Response delete(@PathParam("id") String id) throws Exception {
        if (store.get(id).isEmpty()) {
            return notFound();
        }
        store.remove(id);
        return Response.noContent().build();
    }

    @GET
    @Path("{id}/dead-letters")
    public Response deadLetters(@PathParam("id") String id) {
        if (store.get(id).isEmpty()) {
            return notFound();
        }
        List<DeadLetter> letters = store.deadLetters(id);
        return Response.ok(letters).build();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public synchronized Response add(String body) throws Exception {
        String usage = "the body must be {\"url\":\"https://...\", \"events\":[...], \"secret\":\"...\"}";
        JsonNode request;
        try {
            request = JSON.readTree(body == null ? "" : body);
        } catch (IOException e) {
            return bad(usage);
        }
        if (request == null || !request.isObject()) {
            return bad(usage);
        }
        String url = text(request, "url");
        String problem = urlProblem(url);
        if (problem != null) {
            return bad(problem);
        }
        List<String> events = new ArrayList<>();
        JsonNode wanted = request.get("events");
        if (wanted != null && !wanted.isNull()) {
            if (!wanted.isArray() || wanted.size() > WebhookCodec.EVENT_TYPES.size() + 1) {
                return bad("events must be a list of event types " + WebhookCodec.EVENT_TYPES + " or [\"all\"]");
            }
            boolean all = false;
            for (JsonNode type : wanted) {
                String t = type.isTextual() ? type.asText().strip().toLowerCase(Locale.ROOT) : "";
                if (t.equals("all")) {
                    all = true;
                    continue;
                }
                if (!WebhookCodec.EVENT_TYPES.contains(t)) {
                    return bad("unknown event type " + printable(type.toString()) + "; known: "
                            + WebhookCodec.EVENT_TYPES + " or \"all\"");
                }
                if (!events.contains(t)) {
                    events.add(t);
                }
            }
            if (all) {
                events.clear();
            }
        }
        String secret = text(request, "secret");
        if (secret == null || secret.isBlank()) {
            return bad("secret is required");
        }
        if (secret.length() < MIN_SECRET || secret.length() > MAX_SECRET) {
            return bad("secret must be " + MIN_SECRET + " to " + MAX_SECRET + " characters");
        }
        if (store.size() >= settings.maxSubscriptions()) {
            return bad("too many subscriptions: at most " + settings.maxSubscriptions());
        }
        Subscription subscription = new Subscription(UUID.randomUUID().toString(), url, events, secret,
                System.currentTimeMillis());
        store.put(subscription);
        return Response.status(201).entity(subscription.view()).build();
    }

    /** Why this URL cannot receive webhooks, or null when it can. */
    private String urlProblem(String url) {
        if (url == null || url.isBlank()) {
            return "url is required";
        }
        if (url.length() > MAX_URL) {
            return "url longer than " + MAX_URL + " characters";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "url " + printable(url) + " is not a URL";
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !(scheme.equals("http") && settings.allowHttp())) {
            return "url " + printable(url) + " must be https" + (settings.allowHttp() ? " or http" : "");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            return "url " + printable(url) + " has no host";
        }
        if (uri.getUserInfo() != null) {
            return "url must not carry credentials (the secret signs the requests)";
        }
        return null;
    }

    private static String text(JsonNode request, String field) {
        JsonNode value = request.get(field);
        return value == null || !value.isTextual() ? null : value.asText();
    }

    private static Response bad(String message) {
        return Response.status(400).entity(Map.of("message", message)).build();
    }

    private static Response notFound() {
        return Response.status(404).entity(Map.of("message", "no such webhook")).build();
    }

    /** Echoed input: bounded and without control characters. */
    private static String printable(String value) {
        String v = value.length() > 100 ? value.substring(0, 100) + "..." : value;
        return "\"" + v.replaceAll("\\p{Cntrl}", "?") + "\"";
    }
}
