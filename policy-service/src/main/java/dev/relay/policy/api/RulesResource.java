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
import dev.relay.policy.decide.PolicyDecision;
import dev.relay.policy.decide.PolicyEngine;
import dev.relay.policy.dkim.DkimKeys;
import dev.relay.policy.rules.RuleStore;
import io.smallrye.common.annotation.Blocking;
import io.quarkus.security.Authenticated;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.EntityTag;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The admin API for the relay rules. A bearer token from Keycloak is required (none: 401); whether it may use the
 * API is Keycloak's decision (Authorization Services: the permission on the resource {@code relay-rules} of the
 * client {@code relay-policy}, by default "realm role relay-admin"), asked by {@link KeycloakPermissionPolicy}
 * before any method here runs (not permitted: 403). Invalid input answers 400 with the problems, each naming the rule and
 * field, and changes nothing.
 *
 * <p>Optimistic concurrency: {@code GET} answers the revision as a strong {@code ETag}; {@code PUT} with
 * {@code If-Match} replaces only that revision (otherwise 412 and nothing changes). {@code PUT} without
 * {@code If-Match} replaces whatever is in force, answering a {@code Warning} header.
 */
@Path("/api/rules")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RulesResource {

    private static final Logger LOG = Logger.getLogger(RulesResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RuleStore store;
    private final PolicyEngine engine;
    private final DkimKeys keys;

    public RulesResource(RuleStore store, PolicyEngine engine, DkimKeys keys) {
        this.store = store;
        this.engine = engine;
        this.keys = keys;
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
    public Response get() throws Exception {
        RulesHolder.Current current = store.holder().current();
        return Response.ok(new Current(current.revision(),
                        JSON.readTree(RuleSetCodec.encode(current.rules().ruleSet()))))
                .tag(etag(current.revision())).build();
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
    public Response put(@HeaderParam(HttpHeaders.IF_MATCH) String ifMatch, byte[] body) throws Exception {
        OptionalLong expected;
        try {
            expected = IfMatch.parse(ifMatch);
        } catch (IllegalArgumentException e) {
            return Response.status(400).entity(Map.of("problems", List.of(e.getMessage()))).build();
        }
        List<RuleProblem> problems = problems(body);
        if (!problems.isEmpty()) {
            return Response.status(400).entity(Problems.of(problems)).build();
        }
        RuleSet set = RuleSetCodec.parse(body);
        RuleStore.Replace result = store.replace(set, expected);
        if (result instanceof RuleStore.Replace.Stale stale) {
            LOG.infof("relay rules not replaced: If-Match revision %d, but %d is in force", stale.expected(),
                    stale.current());
            return Response.status(412).tag(etag(stale.current())).entity(Map.of("revision", stale.current(),
                    "problems", List.of("the rules changed: If-Match names revision " + stale.expected()
                            + " but revision " + stale.current() + " is in force; GET /api/rules, apply your"
                            + " change to it and PUT again with its ETag"))).build();
        }
        RuleStore.Replace.Stored stored = (RuleStore.Replace.Stored) result;
        LOG.infof("relay rules revision %d stored (replaced %d%s)", stored.revision(), stored.replaced(),
                expected.isPresent() ? "" : ", unconditionally: no If-Match");
        Response.ResponseBuilder response = Response.ok(Map.of("revision", stored.revision()))
                .tag(etag(stored.revision()));
        if (expected.isEmpty()) {
            response.header("Warning", "299 relay-policy \"no If-Match: replaced revision " + stored.replaced()
                    + " without checking for concurrent changes\"");
        }
        List<String> missing = missingKeys(set);
        if (!missing.isEmpty()) {
            // allowed (the key may follow), but mail these rules match is held until it does
            LOG.warnf("relay rules revision %d names DKIM keys this instance has not loaded: %s", stored.revision(),
                    missing);
            response.header("Warning", "299 relay-policy \"DKIM keys not loaded here: " + String.join(", ", missing)
                    + "; mail these rules sign is held until the key files exist\"");
        }
        return response.build();
    }

    /** {@code dkim[i].selector: domain/selector} of each key a signing rule names that is not loaded here. */
    private List<String> missingKeys(RuleSet set) {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < set.dkim().size(); i++) {
            RuleSet.DkimRule rule = set.dkim().get(i);
            for (String selector : rule.allSelectors()) {
                if (keys.key(rule.domain(), selector).isEmpty()) {
                    missing.add("dkim[" + i + "] " + rule.domain() + "/" + selector);
                }
            }
        }
        return missing;
    }

    private static EntityTag etag(long revision) {
        return new EntityTag(Long.toString(revision));
    }

    /** An envelope to evaluate with the rules in force; nothing is sent. */
    public record DryRun(String clientAddress, DryRunIdentity identity, String mailFrom, List<String> recipients,
                         Long size, Boolean smtputf8) {
    }

    /**
     * The identity as Keycloak would vouch for it; null in the request for an unauthenticated client.
     * {@code organizations}: Keycloak organisation alias to its verified domains, as the ingress fills them in.
     */
    public record DryRunIdentity(String username, String email, List<String> roles, List<String> groups,
                                 List<String> senders, Map<String, List<String>> organizations) {
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
                who.groups(), who.senders(), null, who.organizations());
        Envelope envelope = new Envelope(Envelope.VERSION, "dry-run", 0, request.clientAddress(), "dry-run",
                "dry-run", true, identity, request.mailFrom(), request.recipients(),
                Boolean.TRUE.equals(request.smtputf8()), "8BITMIME", request.size() == null ? 0 : request.size(),
                null, 0);
        PolicyDecision decision = engine.evaluate(envelope);
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
