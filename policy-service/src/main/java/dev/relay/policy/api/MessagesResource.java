package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.trace.PeerClient;
import dev.relay.policy.trace.Trace;
import dev.relay.policy.trace.TraceIds;
import dev.relay.policy.trace.TraceQuery;
import dev.relay.policy.trace.TraceStore;
import dev.relay.policy.trace.TraceView;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import org.apache.kafka.streams.state.HostInfo;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The message trace (docs/adr/0020): what every service said about a message, from the trace store that each
 * policy instance keeps of its share of the events topic. Readable with any of the realm roles
 * {@code relay-viewer}, {@code relay-operator}, {@code relay-admin} (no token 401, none of them 403).
 * <ul>
 *   <li>{@code GET /api/messages/{id}}: {@code {id, sender, recipients, status, events}}, the events by time;
 *       404 when no trace is kept for the id, 400 when it cannot be a queue id; the instance that holds the key is
 *       asked when it is another one;</li>
 *   <li>{@code GET /api/messages?sender=&recipient=&status=&from=&to=&limit=&cursor=}: summaries newest first,
 *       {@code {items, next}} ({@code next}: the cursor of the next page, absent on the last); every instance is
 *       asked and the answers merged.</li>
 * </ul>
 * {@code scope=local} answers from this instance's share only (what instances ask each other).
 */
@Path("/api/messages")
@RolesAllowed({"relay-viewer", "relay-operator", "relay-admin"})
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class MessagesResource {

    private static final Logger LOG = Logger.getLogger(MessagesResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TraceStore store;
    private final PeerClient peers;
    private final int maxPageSize;

    public MessagesResource(TraceStore store, PeerClient peers, PolicyConfig config) {
        this.store = store;
        this.peers = peers;
        this.maxPageSize = config.trace().maxPageSize();
    }

    @GET
    @Path("{id}")
    public Response get(@PathParam("id") String id, @QueryParam("scope") String scope,
                        @HeaderParam("Authorization") String authorization) {
        if (!TraceIds.valid(id)) {
            return message(400, "\"" + printable(id) + "\" is not a queue id (1 to 64 letters, digits, '.', '_', '-')");
        }
        try {
            Optional<HostInfo> owner = "local".equals(scope) ? Optional.empty() : store.owner(id);
            if (owner.isPresent()) {
                PeerClient.Answer answer = peers.get(owner.get(), "/api/messages/" + id + "?scope=local",
                        authorization);
                return Response.status(answer.status()).entity(answer.body()).build();
            }
            Optional<Trace> trace = store.local(id);
            return trace.map(t -> Response.ok(TraceView.full(t)).build())
                    .orElseGet(() -> message(404, "no trace of message " + id
                            + " (unknown, or older than the retention)"));
        } catch (TraceStore.NotReady e) {
            return message(503, e.getMessage());
        } catch (IOException e) {
            LOG.warnf("trace of %s: the instance that holds it did not answer: %s", id, e.toString());
            return message(503, "the policy instance that holds this trace did not answer; try again");
        }
    }

    @GET
    public Response search(@QueryParam("sender") String sender, @QueryParam("recipient") String recipient,
                           @QueryParam("status") String status, @QueryParam("from") String from,
                           @QueryParam("to") String to, @QueryParam("limit") String limit,
                           @QueryParam("cursor") String cursor, @QueryParam("scope") String scope,
                           @HeaderParam("Authorization") String authorization, @Context UriInfo uri) {
        TraceQuery query;
        try {
            query = TraceQuery.parse(sender, recipient, status, from, to, limit, cursor, maxPageSize);
        } catch (IllegalArgumentException e) {
            return message(400, e.getMessage());
        }
        try {
            List<JsonNode> found = new ArrayList<>();
            store.localSearch(query).forEach(t -> found.add(TraceView.summary(t)));
            if (!"local".equals(scope)) {
                String pathAndQuery = uri.getRequestUri().getRawPath() + "?"
                        + (uri.getRequestUri().getRawQuery() == null ? "" : uri.getRequestUri().getRawQuery() + "&")
                        + "scope=local";
                for (HostInfo peer : store.peers()) {
                    PeerClient.Answer answer = peers.get(peer, pathAndQuery, authorization);
                    if (answer.status() != 200 || answer.body() == null) {
                        throw new IOException(peer + " answered " + answer.status());
                    }
                    answer.body().path("items").forEach(found::add);
                }
            }
            found.sort(TraceView.SUMMARY_ORDER);
            ObjectNode page = JSON.createObjectNode();
            ArrayNode items = page.putArray("items");
            // an instance answering scope=local gives one more than a page, so that the merge sees a next page
            int size = "local".equals(scope) ? query.limit() + 1 : query.limit();
            found.stream().limit(size).forEach(items::add);
            if (!"local".equals(scope) && found.size() > query.limit()) {
                page.put("next", TraceView.cursorAfter(found.get(query.limit() - 1)));
            }
            return Response.ok(page).build();
        } catch (TraceStore.NotReady e) {
            return message(503, e.getMessage());
        } catch (IOException e) {
            LOG.warnf("trace search: a policy instance did not answer: %s", e.toString());
            return message(503, "a policy instance did not answer the search; try again");
        }
    }

    private static Response message(int status, String message) {
        return Response.status(status).entity(Map.of("message", message)).build();
    }

    /** Echoed input: bounded and without control characters. */
    private static String printable(String value) {
        String v = value == null ? "" : value.length() > 100 ? value.substring(0, 100) + "..." : value;
        return v.replaceAll("\\p{Cntrl}", "?");
    }
}
