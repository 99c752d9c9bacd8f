package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RuleProblem;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.common.rules.RuleSetException;
import dev.relay.common.rules.RuleSetValidator;
import dev.relay.common.rules.RulesHolder;
import dev.relay.policy.engine.PolicyDecision;
import dev.relay.policy.engine.PolicyEngine;
import dev.relay.policy.messaging.InboundProcessor;
import dev.relay.policy.rules.RuleStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The admin API for the relay rules. Realm role {@code relay-admin} required on every endpoint (bearer token from
 * Keycloak; no token 401, other roles 403). Invalid input answers 400 with the problems, each naming the rule and
 * field, and changes nothing.
 */
@Path("/api/rules")
@RolesAllowed("relay-admin")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RulesResource {

    private static final Logger LOG = Logger.getLogger(RulesResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RuleStore store;
    private final PolicyEngine engine;

    public RulesResource(RuleStore store, InboundProcessor processor) {
        this.store = store;
        this.engine = processor.engine();
    }

    /** @param revision offset of the record in the rules topic; -1 while the configured seed is in force */
    public record Current(long revision, JsonNode rules) {
    }

    public record Problems(List<String> problems, List<RuleProblem> details) {
        static Problems of(List<RuleProblem> problems) {
            return new Problems(problems.stream().map(RuleProblem::toString).toList(), problems);
        }
    }

    @GET
    public Current get() throws Exception {
        RulesHolder.Current current = store.holder().current();
        return new Current(current.revision(), JSON.readTree(RuleSetCodec.encode(current.rules().ruleSet())));
    }

    @POST
    @Path("/validate")
    @Consumes(MediaType.WILDCARD)
    public Response validate(byte[] body) {
        List<RuleProblem> problems = problems(body);
        return problems.isEmpty() ? Response.ok(Map.of("valid", true)).build()
                : Response.status(400).entity(Problems.of(problems)).build();
    }

    @PUT
    @Consumes(MediaType.WILDCARD)
    public Response put(byte[] body) throws Exception {
        List<RuleProblem> problems = problems(body);
        if (!problems.isEmpty()) {
            return Response.status(400).entity(Problems.of(problems)).build();
        }
        long revision = store.publish(RuleSetCodec.parse(body));
        LOG.infof("relay rules revision %d stored", revision);
        return Response.ok(Map.of("revision", revision)).build();
    }

    /** An envelope to evaluate with the rules in force; nothing is sent. */
    public record DryRun(String clientAddress, DryRunIdentity identity, String mailFrom, List<String> recipients,
                         Long size, Boolean smtputf8) {
    }

    /** The identity as Keycloak would vouch for it; null in the request for an unauthenticated client. */
    public record DryRunIdentity(String username, String email, List<String> roles, List<String> groups,
                                 List<String> senders) {
    }

    public record Verdict(String recipient, String verdict, String rule, String reason, String route) {
    }

    @POST
    @Path("/dry-run")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response dryRun(DryRun request) {
        if (request == null || request.recipients() == null || request.recipients().isEmpty()
                || request.clientAddress() == null) {
            return Response.status(400).entity(Map.of("problems",
                    List.of("clientAddress and at least one recipient are required"))).build();
        }
        DryRunIdentity who = request.identity();
        Identity identity = who == null ? null : new Identity(who.username(), "dry-run", who.email(), who.roles(),
                who.groups(), who.senders());
        Envelope envelope = new Envelope(Envelope.VERSION, "dry-run", 0, request.clientAddress(), "dry-run",
                "dry-run", true, identity, request.mailFrom(), request.recipients(),
                Boolean.TRUE.equals(request.smtputf8()), "8BITMIME", request.size() == null ? 0 : request.size(),
                null, 0);
        PolicyDecision decision = engine.decide(envelope);
        List<Verdict> verdicts = new ArrayList<>();
        for (String recipient : request.recipients()) {
            PolicyDecision.Refusal refusal = decision.refused().stream().filter(r -> recipient.equals(r.recipient()))
                    .findFirst().orElse(null);
            if (refusal != null) {
                verdicts.add(new Verdict(recipient, "deny", refusal.rule(), refusal.reason(), null));
            } else {
                String route = decision.hops().entrySet().stream().filter(e -> e.getValue().contains(recipient))
                        .map(Map.Entry::getKey).map(Route::hopKey).findFirst().orElse(null);
                verdicts.add(new Verdict(recipient, "allow", decision.rules().get(recipient), null, route));
            }
        }
        return Response.ok(Map.of("revision", store.holder().current().revision(), "recipients", verdicts)).build();
    }

    private static List<RuleProblem> problems(byte[] body) {
        try {
            RuleSet set = RuleSetCodec.parse(body);
            return RuleSetValidator.validate(set);
        } catch (RuleSetException e) {
            return e.problems();
        }
    }
}
