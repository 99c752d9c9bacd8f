package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.common.suppression.SuppressionList;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.rules.SuppressionStore;
import io.quarkus.security.Authenticated;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin API of the suppression list (docs/adr/0015), authorised exactly like the rules API: a Keycloak bearer
 * token (none: 401) and Keycloak's permission on the admin resource ({@link KeycloakPermissionPolicy}, not
 * granted: 403).
 * <ul>
 *   <li>{@code GET /api/suppressions?address=&page=&size=}: the entries in force whose address contains
 *       {@code address}, by address, one page ({@code size} 1 to {@code relay.policy.suppression.max-page-size},
 *       default 50; {@code page} from 0);</li>
 *   <li>{@code GET /api/suppressions/{address}}: one entry, 404 when none is in force;</li>
 *   <li>{@code DELETE /api/suppressions/{address}}: writes the tombstone (204), 404 when none is in force;</li>
 *   <li>{@code POST /api/suppressions} {@code {"address":..,"ttl":"30d","reason":..}}: adds an entry
 *       ({@code source = admin}) for {@code ttl} (as {@code 90s}, {@code 15m}, {@code 12h}, {@code 30d} or ISO-8601
 *       {@code P30D}; at most {@code relay.policy.suppression.max-ttl}), 201 with the entry.</li>
 * </ul>
 * Bad input (an address that is not a mailbox, a ttl that is not a positive duration within the bound, a page out
 * of bounds) answers 400 with {@code {"message": ...}} and changes nothing.
 */
@Path("/api/suppressions")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class SuppressionResource {

    static final int DEFAULT_PAGE_SIZE = 50;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})(s|m|h|d)");

    private final SuppressionStore store;
    private final Duration maxTtl;
    private final int maxPageSize;

    public SuppressionResource(SuppressionStore store, PolicyConfig config) {
        this.store = store;
        this.maxTtl = config.suppression().maxTtl();
        this.maxPageSize = config.suppression().maxPageSize();
    }

    /** A page of entries. @param total entries matching the filter */
    public record Page(int page, int size, long total, List<JsonNode> items) {
    }

    /** What an administrator adds. */
    public record NewEntry(String address, String ttl, String reason) {
    }

    @GET
    public Response list(@QueryParam("address") String address, @QueryParam("page") String page,
                         @QueryParam("size") String size) {
        int p;
        int s;
        try {
            p = page == null || page.isBlank() ? 0 : Integer.parseInt(page.strip());
            s = size == null || size.isBlank() ? Math.min(DEFAULT_PAGE_SIZE, maxPageSize)
                    : Integer.parseInt(size.strip());
        } catch (NumberFormatException e) {
            return bad("page and size must be whole numbers");
        }
        if (p < 0 || p > 1_000_000) {
            return bad("page must be between 0 and 1000000");
        }
        if (s < 1 || s > maxPageSize) {
            return bad("size must be between 1 and " + maxPageSize);
        }
        if (address != null && address.length() > SuppressionEntry.MAX_ADDRESS) {
            return bad("address filter longer than " + SuppressionEntry.MAX_ADDRESS + " characters");
        }
        SuppressionList.Page found = store.page(address, p, s);
        return Response.ok(new Page(found.page(), found.size(), found.total(),
                found.items().stream().map(SuppressionResource::json).toList())).build();
    }

    @GET
    @Path("{address}")
    public Response get(@PathParam("address") String address) {
        Optional<String> problem = addressProblem(address);
        if (problem.isPresent()) {
            return bad(problem.get());
        }
        return store.get(address).map(e -> Response.ok(json(e)).build())
                .orElseGet(() -> notFound(address));
    }

    @DELETE
    @Path("{address}")
    public Response delete(@PathParam("address") String address) throws Exception {
        Optional<String> problem = addressProblem(address);
        if (problem.isPresent()) {
            return bad(problem.get());
        }
        if (store.get(address).isEmpty()) {
            return notFound(address);
        }
        store.remove(address);
        return Response.noContent().build();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response add(String body) throws Exception {
        NewEntry request;
        try {
            request = JSON.readValue(body == null ? "" : body, NewEntry.class);
        } catch (IOException e) {
            return bad("the body must be {\"address\":..., \"ttl\":..., \"reason\":...}");
        }
        if (request == null) {
            return bad("the body must be {\"address\":..., \"ttl\":..., \"reason\":...}");
        }
        Optional<String> problem = addressProblem(request.address());
        if (problem.isPresent()) {
            return bad(problem.get());
        }
        Duration ttl;
        try {
            ttl = ttl(request.ttl());
        } catch (IllegalArgumentException e) {
            return bad(e.getMessage());
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(maxTtl) > 0) {
            return bad("ttl must be positive and at most " + maxTtl);
        }
        Instant now = store.now();
        String reason = request.reason() == null || request.reason().isBlank() ? "added by an administrator"
                : request.reason();
        SuppressionEntry entry = new SuppressionEntry(request.address(), reason, now, now.plus(ttl),
                SuppressionEntry.Source.ADMIN);
        store.put(entry);
        return Response.status(201).entity(json(entry)).build();
    }

    /** {@code 90s}, {@code 15m}, {@code 12h}, {@code 30d}, or ISO-8601 ({@code PT12H}, {@code P30D}). */
    static Duration ttl(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("ttl is required (e.g. \"30d\")");
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        Matcher m = SHORT_DURATION.matcher(v);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("ttl " + printable(value) + " is not a duration (e.g. \"30d\", "
                    + "\"12h\", \"P30D\")");
        }
    }

    /** Why this is not a mailbox address (RFC 5321 path without brackets), or empty when it is one. */
    static Optional<String> addressProblem(String address) {
        if (address == null || address.isBlank()) {
            return Optional.of("address is required");
        }
        if (address.length() > SuppressionEntry.MAX_ADDRESS) {
            return Optional.of("address longer than " + SuppressionEntry.MAX_ADDRESS + " characters");
        }
        if (AddressParser.parse(address.strip(), true) instanceof ParsedAddress.Invalid invalid) {
            return Optional.of("address " + printable(address) + " is not valid: " + invalid.reason());
        }
        if (!address.contains("@")) {
            return Optional.of("address " + printable(address) + " has no domain");
        }
        return Optional.empty();
    }

    private static JsonNode json(SuppressionEntry entry) {
        try {
            return JSON.readTree(SuppressionCodec.encode(entry));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Response bad(String message) {
        return Response.status(400).entity(Map.of("message", message)).build();
    }

    private static Response notFound(String address) {
        return Response.status(404).entity(Map.of("message", "no suppression in force for "
                + printable(address))).build();
    }

    /** Echoed input: printable ASCII-safe and bounded, so that a response never carries control characters. */
    private static String printable(String value) {
        String v = value.length() > 100 ? value.substring(0, 100) + "..." : value;
        return "\"" + v.replaceAll("\\p{Cntrl}", "?") + "\"";
    }
}
