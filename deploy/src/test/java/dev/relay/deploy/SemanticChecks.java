package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the schemas cannot see, over one rendered overlay ({@link Manifests}): names resolvable from the namespace
 * that uses them, references to Secrets and ConfigMaps that will exist, selectors that select real pods, the
 * issuer the ingress expects, and the project's deployment decisions (images, monitoring label, DNS egress,
 * consumer ceilings, heap, Kafka storage and spread). Each check returns its problems, one line each, naming the
 * object and the field; empty means fine.
 */
final class SemanticChecks {

    private SemanticChecks() {
    }

    // ---------------------------------------------------------------- names resolvable from where they are used

    /** {@code [scheme://]host[:port][/...|;...]}; hosts only (IP literals and file paths never match a Service). */
    private static final Pattern ADDRESS = Pattern.compile(
            "^(?:(?<scheme>[a-z][a-z0-9+.-]*)://)?(?<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?<port>\\d+))?(?:[/;?].*)?$");

    /**
     * Every service address in container env values, ConfigMap values, the Keycloak database host and KEDA trigger
     * metadata names a Service that exists (rendered, or created by an operator, or listed in deploy/README.md as
     * provided by the platform) with that port, in a form that resolves from the namespace of whoever resolves it.
     * KEDA resolves trigger metadata from its own namespace: only {@code <svc>.<ns>.svc[.cluster.local]} reaches ours.
     */
    static List<String> serviceAddresses(Manifests m) {
        List<String> problems = new ArrayList<>();
        String ns = m.namespace();
        for (ObjectNode w : m.workloads()) {
            for (JsonNode c : Manifests.containers(w)) {
                for (JsonNode e : c.path("env")) {
                    if (e.has("value")) {
                        for (String token : e.path("value").asText().split(",")) {
                            address(m, token.strip(), ns, Manifests.label(w) + " env " + e.path("name").asText(), problems);
                        }
                    }
                }
            }
        }
        for (ObjectNode cm : m.kind("ConfigMap")) {
            cm.path("data").fields().forEachRemaining(e -> {
                for (String token : e.getValue().asText().split(",")) {
                    address(m, token.strip(), ns, Manifests.label(cm) + " data." + e.getKey(), problems);
                }
            });
        }
        for (ObjectNode keycloak : m.kind("Keycloak")) {
            JsonNode db = keycloak.path("spec").path("db");
            if (db.has("host")) {
                String host = db.path("host").asText() + (db.has("port") ? ":" + db.path("port").asInt() : "");
                address(m, host, ns, Manifests.label(keycloak) + " spec.db.host", problems);
            }
        }
        for (ObjectNode scaled : m.kind("ScaledObject")) {
            for (JsonNode trigger : scaled.path("spec").path("triggers")) {
                trigger.path("metadata").fields().forEachRemaining(e -> {
                    for (String token : e.getValue().asText().split(",")) {
                        address(m, token.strip(), null, Manifests.label(scaled) + " trigger " + trigger.path("type").asText()
                                + " metadata." + e.getKey() + " (resolved from KEDA's namespace)", problems);
                    }
                });
            }
        }
        return problems;
    }

    /** @param from the namespace the name is resolved from; null: another one (KEDA's) */
    private static void address(Manifests m, String token, String from, String where, List<String> problems) {
        Matcher a = ADDRESS.matcher(token);
        if (!a.matches() || (a.group("scheme") == null && a.group("port") == null && !where.contains("spec.db.host"))
                || a.group("host").matches("[0-9.]+")) {
            return;
        }
        String host = a.group("host");
        String[] parts = host.split("\\.");
        String ns = m.namespace();
        String service;
        String namespace;
        boolean qualified = parts.length == 3 && parts[2].equals("svc")
                || parts.length == 5 && host.endsWith(".svc.cluster.local");
        if (parts.length == 1) {
            if (from == null) {
                problems.add(where + ": \"" + token + "\" is a short name, resolved from another namespace; use "
                        + host + "." + ns + ".svc");
                return;
            }
            service = host;
            namespace = from;
        } else if (qualified || (parts.length == 2 && parts[1].equals(ns))) {
            service = parts[0];
            namespace = parts[1];
            if (from == null && !qualified) {
                problems.add(where + ": \"" + token + "\" must be " + service + "." + namespace + ".svc[.cluster.local]");
                return;
            }
        } else {
            return; // a public name (an external host, a CHANGE value): not a Service of the cluster
        }
        if (!namespace.equals(ns)) {
            if (from == null) {
                problems.add(where + ": \"" + token + "\" names namespace " + namespace + ", not the overlay's " + ns);
            } else if (!Manifests.documented(host) && !Manifests.documented(host + (a.group("port") != null ? ":" + a.group("port") : ""))) {
                problems.add(where + ": \"" + token + "\" is a Service in another namespace that deploy/README.md does not list");
            }
            return;
        }
        Optional<Manifests.Svc> svc = m.services().stream().filter(s -> s.name().equals(service)).findFirst();
        if (svc.isEmpty()) {
            if (!Manifests.documented(service)) {
                problems.add(where + ": \"" + token + "\": no Service " + service + " in namespace " + ns
                        + " (not rendered, not created by an operator, not listed in deploy/README.md)");
            }
            return;
        }
        if (a.group("port") != null && !svc.get().ports().containsValue(Integer.parseInt(a.group("port")))) {
            problems.add(where + ": \"" + token + "\": Service " + service + " has no port " + a.group("port")
                    + " (ports " + svc.get().ports() + ")");
        }
    }

    // ---------------------------------------------------------------- Secrets and ConfigMaps that will exist

    private record Ref(String kind, String name, String key, String where) {
    }

    /**
     * Every Secret and ConfigMap a pod, a KEDA TriggerAuthentication, a Keycloak or a realm import references exists
     * with that key: rendered, created by an operator (Strimzi KafkaUser and cluster CA, cert-manager
     * Certificate.secretName) or listed in deploy/README.md as one the operator of Relay creates.
     */
    static List<String> references(Manifests m) {
        List<Ref> refs = new ArrayList<>();
        for (ObjectNode w : m.workloads()) {
            String where = Manifests.label(w);
            JsonNode pod = w.path("spec").path("template").path("spec");
            for (JsonNode c : Manifests.containers(w)) {
                for (JsonNode e : c.path("env")) {
                    JsonNode from = e.path("valueFrom");
                    ref(refs, "Secret", from.path("secretKeyRef"), "key", where + " env " + e.path("name").asText());
                    ref(refs, "ConfigMap", from.path("configMapKeyRef"), "key", where + " env " + e.path("name").asText());
                }
                for (JsonNode e : c.path("envFrom")) {
                    ref(refs, "Secret", e.path("secretRef"), null, where + " envFrom");
                    ref(refs, "ConfigMap", e.path("configMapRef"), null, where + " envFrom");
                }
            }
            for (JsonNode v : pod.path("volumes")) {
                volume(refs, "Secret", v.path("secret"), "secretName", where + " volume " + v.path("name").asText());
                volume(refs, "ConfigMap", v.path("configMap"), "name", where + " volume " + v.path("name").asText());
                for (JsonNode source : v.path("projected").path("sources")) {
                    volume(refs, "Secret", source.path("secret"), "name", where + " volume " + v.path("name").asText());
                    volume(refs, "ConfigMap", source.path("configMap"), "name", where + " volume " + v.path("name").asText());
                }
            }
        }
        for (ObjectNode auth : m.kind("TriggerAuthentication")) {
            for (JsonNode t : auth.path("spec").path("secretTargetRef")) {
                ref(refs, "Secret", t, "key", Manifests.label(auth) + " secretTargetRef " + t.path("parameter").asText());
            }
            for (JsonNode t : auth.path("spec").path("configMapTargetRef")) {
                ref(refs, "ConfigMap", t, "key", Manifests.label(auth) + " configMapTargetRef " + t.path("parameter").asText());
            }
        }
        for (ObjectNode keycloak : m.kind("Keycloak")) {
            JsonNode spec = keycloak.path("spec");
            ref(refs, "Secret", spec.path("db").path("usernameSecret"), "key", Manifests.label(keycloak) + " spec.db.usernameSecret");
            ref(refs, "Secret", spec.path("db").path("passwordSecret"), "key", Manifests.label(keycloak) + " spec.db.passwordSecret");
            if (spec.path("ingress").path("enabled").asBoolean(false) && spec.path("ingress").has("tlsSecret")) {
                refs.add(new Ref("Secret", spec.path("ingress").path("tlsSecret").asText(), "tls.crt", Manifests.label(keycloak) + " spec.ingress.tlsSecret"));
            }
            if (spec.path("http").has("tlsSecret")) {
                refs.add(new Ref("Secret", spec.path("http").path("tlsSecret").asText(), "tls.crt", Manifests.label(keycloak) + " spec.http.tlsSecret"));
            }
        }
        for (ObjectNode realm : m.kind("KeycloakRealmImport")) {
            realm.path("spec").path("placeholders").fields().forEachRemaining(p ->
                    ref(refs, "Secret", p.getValue().path("secret"), "key", Manifests.label(realm) + " spec.placeholders." + p.getKey()));
        }
        List<String> problems = new ArrayList<>();
        List<Manifests.Data> data = m.data();
        for (Ref ref : refs) {
            Optional<Manifests.Data> found = data.stream()
                    .filter(d -> d.kind().equals(ref.kind()) && d.name().equals(ref.name())).findFirst();
            if (found.isEmpty()) {
                if (!Manifests.documented(ref.name())) {
                    problems.add(ref.where() + ": " + ref.kind() + " " + ref.name() + " is neither rendered, nor created by"
                            + " an operator, nor listed in deploy/README.md");
                }
            } else if (ref.key() != null && found.get().keys() != null && !found.get().keys().contains(ref.key())) {
                problems.add(ref.where() + ": " + ref.kind() + " " + ref.name() + " has no key " + ref.key()
                        + " (keys " + found.get().keys() + (found.get().createdBy() != null ? ", created by "
                        + found.get().createdBy() : "") + ")");
            }
        }
        return problems;
    }

    private static void ref(List<Ref> refs, String kind, JsonNode ref, String keyField, String where) {
        if (ref.isObject() && ref.has("name") && !ref.path("optional").asBoolean(false)) {
            refs.add(new Ref(kind, ref.path("name").asText(), keyField == null ? null : ref.path(keyField).asText(null), where));
        }
    }

    private static void volume(List<Ref> refs, String kind, JsonNode source, String nameField, String where) {
        if (!source.isObject() || !source.has(nameField) || source.path("optional").asBoolean(false)) {
            return;
        }
        String name = source.path(nameField).asText();
        if (source.path("items").isEmpty()) {
            refs.add(new Ref(kind, name, null, where));
        }
        for (JsonNode item : source.path("items")) {
            refs.add(new Ref(kind, name, item.path("key").asText(), where));
        }
    }

    // ---------------------------------------------------------------- selectors that select something

    /**
     * Service, PodDisruptionBudget and NetworkPolicy selectors (own namespace) select real pods (rendered or run by
     * an operator); a Service's named target ports exist on them; ServiceMonitor selects Services with the scraped
     * port, PodMonitor pods with it; HPA and ScaledObject targets exist; Strimzi and realm-import parents exist.
     */
    static List<String> selectors(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Manifests.Pods> pods = m.pods();
        for (ObjectNode s : m.kind("Service")) {
            Map<String, String> selector = Manifests.strings(s.path("spec").path("selector"));
            if (selector.isEmpty()) {
                continue;
            }
            List<Manifests.Pods> selected = select(pods, selector);
            if (selected.isEmpty()) {
                problems.add(Manifests.label(s) + " spec.selector " + selector + " selects no pod");
            }
            for (JsonNode port : s.path("spec").path("ports")) {
                JsonNode target = port.path("targetPort");
                if (target.isTextual() && selected.stream().anyMatch(p -> !p.ports().containsKey(target.asText()))) {
                    problems.add(Manifests.label(s) + " port " + port.path("name").asText() + ": targetPort "
                            + target.asText() + " is not a container port name of every selected pod");
                }
            }
        }
        for (ObjectNode pdb : m.kind("PodDisruptionBudget")) {
            matchLabels(pods, pdb.path("spec").path("selector"), Manifests.label(pdb) + " spec.selector", problems);
        }
        for (ObjectNode np : m.kind("NetworkPolicy")) {
            matchLabels(pods, np.path("spec").path("podSelector"), Manifests.label(np) + " spec.podSelector", problems);
            for (String direction : List.of("ingress", "egress")) {
                int i = 0;
                for (JsonNode rule : np.path("spec").path(direction)) {
                    for (JsonNode peer : rule.path(direction.equals("ingress") ? "from" : "to")) {
                        if (peer.has("podSelector") && !peer.has("namespaceSelector")) {
                            matchLabels(pods, peer.path("podSelector"), Manifests.label(np) + " spec." + direction + "[" + i
                                    + "] podSelector", problems);
                        }
                    }
                    i++;
                }
            }
        }
        List<Manifests.Svc> services = m.services();
        for (ObjectNode monitor : m.kind("ServiceMonitor")) {
            Map<String, String> selector = Manifests.strings(monitor.path("spec").path("selector").path("matchLabels"));
            List<Manifests.Svc> selected = services.stream().filter(s -> s.labels().entrySet().containsAll(selector.entrySet())).toList();
            if (selected.isEmpty()) {
                problems.add(Manifests.label(monitor) + " spec.selector " + selector + " selects no Service");
            }
            for (JsonNode endpoint : monitor.path("spec").path("endpoints")) {
                String port = endpoint.path("port").asText();
                selected.stream().filter(s -> !s.ports().containsKey(port)).forEach(s -> problems.add(Manifests.label(monitor)
                        + " endpoint port " + port + ": Service " + s.name() + " has no port of that name"));
            }
        }
        for (ObjectNode monitor : m.kind("PodMonitor")) {
            Map<String, String> selector = Manifests.strings(monitor.path("spec").path("selector").path("matchLabels"));
            List<Manifests.Pods> selected = select(pods, selector);
            if (selected.isEmpty()) {
                problems.add(Manifests.label(monitor) + " spec.selector " + selector + " selects no pod");
            }
            for (JsonNode endpoint : monitor.path("spec").path("podMetricsEndpoints")) {
                String port = endpoint.path("port").asText();
                selected.stream().filter(p -> !p.ports().containsKey(port)).forEach(p -> problems.add(Manifests.label(monitor)
                        + " endpoint port " + port + ": pods of " + p.owner() + " have no port of that name"));
            }
        }
        for (ObjectNode hpa : m.kind("HorizontalPodAutoscaler")) {
            target(m, hpa.path("spec").path("scaleTargetRef"), Manifests.label(hpa), problems);
        }
        for (ObjectNode scaled : m.kind("ScaledObject")) {
            target(m, scaled.path("spec").path("scaleTargetRef"), Manifests.label(scaled), problems);
        }
        for (String kind : List.of("KafkaNodePool", "KafkaTopic", "KafkaUser")) {
            for (ObjectNode o : m.kind(kind)) {
                String cluster = o.path("metadata").path("labels").path("strimzi.io/cluster").asText();
                if (m.find("Kafka", cluster).isEmpty()) {
                    problems.add(Manifests.label(o) + " label strimzi.io/cluster: no Kafka named \"" + cluster + "\"");
                }
            }
        }
        for (ObjectNode keycloak : m.kind("Keycloak")) {
            for (JsonNode peer : keycloak.path("spec").path("networkPolicy").path("http")) {
                if (peer.has("podSelector") && !peer.has("namespaceSelector")) {
                    matchLabels(pods, peer.path("podSelector"), Manifests.label(keycloak) + " spec.networkPolicy.http podSelector", problems);
                }
            }
        }
        for (ObjectNode realm : m.kind("KeycloakRealmImport")) {
            String parent = realm.path("spec").path("keycloakCRName").asText();
            if (m.find("Keycloak", parent).isEmpty()) {
                problems.add(Manifests.label(realm) + " spec.keycloakCRName: no Keycloak named \"" + parent + "\"");
            }
        }
        return problems;
    }

    private static List<Manifests.Pods> select(List<Manifests.Pods> pods, Map<String, String> selector) {
        return pods.stream().filter(p -> p.labels().entrySet().containsAll(selector.entrySet())).toList();
    }

    private static void matchLabels(List<Manifests.Pods> pods, JsonNode selector, String where, List<String> problems) {
        Map<String, String> labels = Manifests.strings(selector.path("matchLabels"));
        if (!labels.isEmpty() && select(pods, labels).isEmpty()) {
            problems.add(where + " " + labels + " selects no pod");
        }
    }

    private static void target(Manifests m, JsonNode ref, String where, List<String> problems) {
        String kind = ref.path("kind").asText("Deployment");
        if (m.find(kind, ref.path("name").asText()).isEmpty()) {
            problems.add(where + " scaleTargetRef: no " + kind + " named \"" + ref.path("name").asText() + "\"");
        }
    }

    // ---------------------------------------------------------------- Ingress objects

    /**
     * Every Ingress routes to a Service that exists with that port, serves TLS from a Secret that will exist, and
     * reaches pods whose NetworkPolicies admit a namespace (the ingress controller's) on the target port. The admin
     * API's Ingress {@code relay-admin} routes only {@code /api} of relay-policy, never {@code /q/} or the root.
     */
    static List<String> ingresses(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Manifests.Svc> services = m.services();
        List<Manifests.Pods> pods = m.pods();
        List<Manifests.Data> data = m.data();
        for (ObjectNode ingress : m.kind("Ingress")) {
            String where = Manifests.label(ingress);
            for (JsonNode rule : ingress.path("spec").path("rules")) {
                for (JsonNode path : rule.path("http").path("paths")) {
                    JsonNode backend = path.path("backend").path("service");
                    String at = where + " " + rule.path("host").asText("*") + path.path("path").asText("/");
                    Optional<Manifests.Svc> svc = services.stream().filter(s -> s.name().equals(backend.path("name").asText())).findFirst();
                    if (svc.isEmpty()) {
                        problems.add(at + ": no Service " + backend.path("name").asText());
                        continue;
                    }
                    JsonNode port = backend.path("port");
                    Integer number = port.has("name") ? svc.get().ports().get(port.path("name").asText()) : Integer.valueOf(port.path("number").asInt());
                    if (number == null || !svc.get().ports().containsValue(number)) {
                        problems.add(at + ": Service " + svc.get().name() + " has no port " + port);
                        continue;
                    }
                    ObjectNode service = m.find("Service", svc.get().name()).orElse(null);
                    if (service != null) {
                        admitsAnotherNamespace(m, pods, service, number, at, problems);
                    }
                    if (Manifests.name(ingress).equals("relay-admin")) {
                        String p = path.path("path").asText("/");
                        if (!p.equals("/api") && !p.startsWith("/api/") || !svc.get().name().equals("relay-policy")) {
                            problems.add(at + ": the admin Ingress routes only /api of relay-policy (never /q/ or the root)");
                        }
                    }
                }
            }
            for (JsonNode tls : ingress.path("spec").path("tls")) {
                String secret = tls.path("secretName").asText();
                boolean shim = ingress.path("metadata").path("annotations").has("cert-manager.io/cluster-issuer")
                        || ingress.path("metadata").path("annotations").has("cert-manager.io/issuer");
                if (!shim && data.stream().noneMatch(d -> d.kind().equals("Secret") && d.name().equals(secret))
                        && !Manifests.documented(secret)) {
                    problems.add(where + " tls secretName " + secret + ": no such Secret (no Certificate writes it)");
                }
            }
            if (Manifests.name(ingress).equals("relay-admin") && ingress.path("spec").path("tls").isEmpty()) {
                problems.add(where + ": the admin API is served without TLS");
            }
        }
        return problems;
    }

    /** The pods behind {@code service} are admitted on {@code port} from some namespace by their ingress policies. */
    private static void admitsAnotherNamespace(Manifests m, List<Manifests.Pods> pods, ObjectNode service, int port,
                                               String where, List<String> problems) {
        Map<String, String> selector = Manifests.strings(service.path("spec").path("selector"));
        int target = port;
        for (JsonNode p : service.path("spec").path("ports")) {
            if (p.path("port").asInt() == port) {
                JsonNode t = p.path("targetPort");
                target = t.isInt() ? t.asInt() : pods.stream().filter(pod -> pod.labels().entrySet().containsAll(selector.entrySet()))
                        .map(pod -> pod.ports().get(t.asText())).filter(java.util.Objects::nonNull).findFirst().orElse(port);
            }
        }
        for (Manifests.Pods pod : select(pods, selector)) {
            List<JsonNode> rules = new ArrayList<>();
            boolean isolated = false;
            for (ObjectNode np : m.kind("NetworkPolicy")) {
                Map<String, String> podSelector = Manifests.strings(np.path("spec").path("podSelector").path("matchLabels"));
                boolean ingress = Manifests.list(np.path("spec").path("policyTypes")).stream().anyMatch(t -> t.asText().equals("Ingress"));
                if (ingress && pod.labels().entrySet().containsAll(podSelector.entrySet())) {
                    isolated = true;
                    np.path("spec").path("ingress").forEach(rules::add);
                }
            }
            int targetPort = target;
            boolean admitted = rules.stream().anyMatch(rule -> (rule.path("ports").isEmpty()
                    || Manifests.list(rule.path("ports")).stream().anyMatch(p -> p.path("port").asInt(-1) == targetPort))
                    && (rule.path("from").isEmpty() || Manifests.list(rule.path("from")).stream()
                    .anyMatch(peer -> peer.has("namespaceSelector") && !peer.has("podSelector"))));
            if (isolated && !admitted) {
                problems.add(where + ": no NetworkPolicy admits the ingress controller's namespace to " + pod.owner()
                        + " on port " + targetPort);
            }
        }
    }

    // ---------------------------------------------------------------- env vars the services read

    /**
     * Every env var on a Relay container is a configuration key its service reads (see {@link ServiceModule}) or a
     * variable of its image and launcher (JAVA_OPTS_APPEND, JAVA_MAX_MEM_RATIO, ...); no envFrom, which would hide
     * which keys are set.
     */
    static List<String> envKeys(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (String deployment : ServiceModule.MODULES.keySet()) {
            Optional<ObjectNode> d = m.find("Deployment", deployment);
            if (d.isEmpty()) {
                continue;
            }
            ServiceModule module = ServiceModule.of(deployment);
            for (JsonNode c : Manifests.containers(d.get())) {
                if (!c.path("envFrom").isEmpty()) {
                    problems.add("Deployment " + deployment + " container " + c.path("name").asText() + ": envFrom hides which keys are set");
                }
                // a variable that only feeds others of the container through Kubernetes' $(NAME) expansion (e.g. the
                // pod IP from the downward API) is read by Kubernetes, not by the service
                String values = java.util.stream.StreamSupport.stream(c.path("env").spliterator(), false)
                        .map(e -> e.path("value").asText("")).collect(java.util.stream.Collectors.joining("\n"));
                for (JsonNode e : c.path("env")) {
                    String name = e.path("name").asText();
                    boolean referenced = values.contains("$(" + name + ")");
                    if (!referenced && module.keyOf(name).isEmpty() && !module.imageEnvironment().contains(name)) {
                        problems.add("Deployment " + deployment + " env " + name + ": sets no configuration key that "
                                + module.dir.getFileName() + " reads, and no variable of its image");
                    }
                }
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- issuer = public hostname + realm

    /** The ingress accepts tokens of the issuer Keycloak really stamps: its public hostname + /realms/<realm>. */
    static List<String> issuer(Manifests m) {
        List<String> problems = new ArrayList<>();
        ObjectNode keycloak = m.kind("Keycloak").stream().findFirst().orElse(null);
        if (keycloak == null) {
            return List.of("no Keycloak");
        }
        String hostname = keycloak.path("spec").path("hostname").path("hostname").asText("");
        if (!hostname.matches("https?://[^/]+")) {
            problems.add(Manifests.label(keycloak) + " spec.hostname.hostname \"" + hostname
                    + "\" is not a full public URL (scheme://host) — tokens would name a host nobody outside can reach");
        }
        JsonNode container = Manifests.containers(m.one("Deployment", "relay-ingress")).get(0);
        Map<String, String> env = Manifests.env(container);
        String realm = ServiceModule.of("relay-ingress").value("relay.ingress.keycloak.realm", env);
        String expected = hostname.replaceAll("/+$", "") + "/realms/" + realm;
        String actual = env.get("RELAY_INGRESS_KEYCLOAK_ISSUER");
        if (!expected.equals(actual)) {
            problems.add("Deployment relay-ingress env RELAY_INGRESS_KEYCLOAK_ISSUER is " + (actual == null ? "unset" : "\"" + actual + "\"")
                    + ", Keycloak issues tokens as \"" + expected + "\" (spec.hostname.hostname + /realms/" + realm + ")");
        }
        return problems;
    }

    // ---------------------------------------------------------------- images (conventions 4)

    private static final Pattern IMAGE = Pattern.compile(
            "^(?<registry>[^/]+)/(?<path>[a-z0-9._/-]+)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$");

    /** Registry host and tag or digest on every image, never latest; Relay's at the overlay's registry; others pinned twice. */
    static List<String> images(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode w : m.workloads()) {
            JsonNode main = w.path("spec").path("template").path("spec").path("containers").path(0);
            for (JsonNode c : Manifests.containers(w)) {
                // a Relay deployment's main container runs Relay's image; init containers and sidecars are third-party
                String module = c == main ? ServiceModule.MODULES.get(Manifests.name(w)) : null;
                String image = c.path("image").asText();
                String where = Manifests.label(w) + " container " + c.path("name").asText() + " image \"" + image + "\"";
                Matcher i = IMAGE.matcher(image);
                if (!i.matches() || !(i.group("registry").contains(".") || i.group("registry").contains(":")
                        || i.group("registry").equals("localhost"))) {
                    problems.add(where + ": no registry host");
                    continue;
                }
                if (i.group("tag") == null && i.group("digest") == null || "latest".equals(i.group("tag"))) {
                    problems.add(where + ": neither a version tag nor a digest");
                }
                if (module != null) {
                    String expected = m.isProduction() ? "registry.example.org/relay/" + module + ":0.1.0"
                            : "localhost:5001/relay/" + module + ":0.1.0-SNAPSHOT";
                    if (!image.equals(expected)) {
                        problems.add(where + ": expected " + expected);
                    }
                } else if (i.group("tag") == null || i.group("digest") == null) {
                    problems.add(where + ": a third-party image is pinned by tag and sha256 digest");
                }
            }
        }
        for (ObjectNode keycloak : m.kind("Keycloak")) {
            String image = keycloak.path("spec").path("image").asText(null);
            if (image != null && !IMAGE.matcher(image).matches()) {
                problems.add(Manifests.label(keycloak) + " spec.image \"" + image + "\": no registry host or tag");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- monitoring label (conventions 3)

    static List<String> monitoringLabels(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (String kind : List.of("ServiceMonitor", "PodMonitor", "PrometheusRule")) {
            for (ObjectNode o : m.kind(kind)) {
                if (!"kube-prometheus-stack".equals(o.path("metadata").path("labels").path("release").asText())) {
                    problems.add(Manifests.label(o) + ": no label release: kube-prometheus-stack (a default"
                            + " kube-prometheus-stack selects nothing else)");
                }
            }
        }
        if (m.kind("ConfigMap").stream().noneMatch(c -> "1".equals(c.path("metadata").path("labels").path("grafana_dashboard").asText()))) {
            problems.add("no ConfigMap with label grafana_dashboard: \"1\"");
        }
        return problems;
    }

    // ---------------------------------------------------------------- DNS egress (conventions 7)

    static final String NODE_LOCAL_DNS = "169.254.20.10/32";

    /**
     * Every pod whose egress is restricted and that may reach anything at all may reach DNS: UDP and TCP on 53 and
     * 5353 to every namespace ({@code namespaceSelector: {}}) and to NodeLocal DNSCache, judged over all the
     * policies that select it (they add up). A pod with no egress at all (a database) needs none. No policy picks
     * DNS pods by CoreDNS labels: DNS pods are the platform's, named differently on each.
     */
    static List<String> dnsEgress(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode np : m.kind("NetworkPolicy")) {
            for (JsonNode rule : np.path("spec").path("egress")) {
                for (JsonNode peer : rule.path("to")) {
                    if (peer.path("podSelector").path("matchLabels").has("k8s-app")) {
                        problems.add(Manifests.label(np) + ": egress assumes DNS pods labelled k8s-app ("
                                + peer.path("podSelector").path("matchLabels") + ")");
                    }
                }
            }
        }
        for (Manifests.Pods pods : m.pods()) {
            if (pods.createdBy() != null) {
                continue; // the operators' pods: their policies are the operators'
            }
            List<JsonNode> rules = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (ObjectNode np : m.kind("NetworkPolicy")) {
                Map<String, String> selector = Manifests.strings(np.path("spec").path("podSelector").path("matchLabels"));
                boolean egress = Manifests.list(np.path("spec").path("policyTypes")).stream().anyMatch(t -> t.asText().equals("Egress"));
                if (egress && pods.labels().entrySet().containsAll(selector.entrySet())) {
                    np.path("spec").path("egress").forEach(rules::add);
                    names.add(Manifests.name(np));
                }
            }
            if (rules.isEmpty()) {
                continue;
            }
            for (String protocol : List.of("UDP", "TCP")) {
                for (int port : List.of(53, 5353)) {
                    if (!egressAllows(rules, protocol, port, peer -> peer.has("namespaceSelector")
                            && peer.path("namespaceSelector").isEmpty() && peer.path("podSelector").isEmpty())) {
                        problems.add(pods.owner() + " (NetworkPolicy " + String.join(", ", names) + "): no egress "
                                + protocol + "/" + port + " to namespaceSelector: {}");
                    }
                    if (!egressAllows(rules, protocol, port, peer -> NODE_LOCAL_DNS.equals(peer.path("ipBlock").path("cidr").asText()))) {
                        problems.add(pods.owner() + " (NetworkPolicy " + String.join(", ", names) + "): no egress "
                                + protocol + "/" + port + " to " + NODE_LOCAL_DNS);
                    }
                }
            }
        }
        return problems;
    }

    private static boolean egressAllows(List<JsonNode> rules, String protocol, int port, java.util.function.Predicate<JsonNode> peer) {
        for (JsonNode rule : rules) {
            boolean portOk = Manifests.list(rule.path("ports")).stream().anyMatch(p -> p.path("protocol").asText("TCP").equals(protocol)
                    && p.path("port").asInt(-1) == port);
            boolean peerOk = Manifests.list(rule.path("to")).stream().anyMatch(peer);
            if (portOk && peerOk) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- consumer ceilings (conventions 9)

    private static final Pattern INCOMING = Pattern.compile("mp\\.messaging\\.incoming\\.([^.]+)\\.topic");

    /** For every consumer group: (autoscaler ceiling) x (consumers per pod) <= partitions of its topic. */
    static List<String> consumerCeilings(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (String deployment : ServiceModule.MODULES.keySet()) {
            Optional<ObjectNode> d = m.find("Deployment", deployment);
            if (d.isEmpty()) {
                continue;
            }
            ServiceModule module = ServiceModule.of(deployment);
            Map<String, String> env = Manifests.env(Manifests.containers(d.get()).get(0));
            int ceiling = ceiling(m, d.get());
            for (String key : module.keys.keySet()) {
                Matcher in = INCOMING.matcher(key);
                if (!in.matches()) {
                    continue;
                }
                String channel = "mp.messaging.incoming." + in.group(1) + ".";
                String concurrency = module.value(channel + "concurrency", env);
                int perPod = concurrency == null || concurrency.isBlank() ? 1 : Integer.parseInt(concurrency.strip());
                ceiling(m, deployment + " channel " + in.group(1) + " (group " + module.value(channel + "group.id", env) + ")",
                        module.value(key, env), ceiling, perPod, problems);
            }
            if (module.keys.containsKey("relay.delivery.retry.topic-prefix")) {
                List<Duration> schedule = Arrays.stream(module.value("relay.delivery.retry.schedule", env).split(","))
                        .map(ManifestStructureTest::duration).toList();
                for (String tier : dev.relay.common.kafka.Topics.retryTiers(module.value("relay.delivery.retry.topic-prefix", env), schedule)) {
                    ceiling(m, deployment + " retry (group " + module.value("relay.delivery.retry.group-id", env) + ")",
                            tier, ceiling, 1, problems);
                }
            }
        }
        return problems;
    }

    private static void ceiling(Manifests m, String consumer, String topic, int ceiling, int perPod, List<String> problems) {
        Optional<ObjectNode> kafkaTopic = m.kind("KafkaTopic").stream()
                .filter(t -> topic.equals(t.path("spec").path("topicName").asText(Manifests.name(t)))).findFirst();
        if (kafkaTopic.isEmpty()) {
            problems.add(consumer + ": no KafkaTopic for " + topic);
            return;
        }
        int partitions = kafkaTopic.get().path("spec").path("partitions").asInt();
        if ((long) ceiling * perPod > partitions) {
            problems.add(consumer + ": up to " + ceiling + " pods x " + perPod + " consumers = " + (ceiling * perPod)
                    + " consumers for " + partitions + " partitions of " + topic + " (the rest idle)");
        }
    }

    /** The most pods the autoscaler of a workload may run: ScaledObject (KEDA's default 100), HPA, or replicas. */
    private static int ceiling(Manifests m, ObjectNode workload) {
        String name = Manifests.name(workload);
        for (ObjectNode scaled : m.kind("ScaledObject")) {
            if (name.equals(scaled.path("spec").path("scaleTargetRef").path("name").asText())) {
                return scaled.path("spec").path("maxReplicaCount").asInt(100);
            }
        }
        for (ObjectNode hpa : m.kind("HorizontalPodAutoscaler")) {
            if (name.equals(hpa.path("spec").path("scaleTargetRef").path("name").asText())) {
                return hpa.path("spec").path("maxReplicas").asInt();
            }
        }
        return workload.path("spec").path("replicas").asInt(1);
    }

    // ---------------------------------------------------------------- heap (conventions 10)

    private static final Pattern MAX_RAM = Pattern.compile("-XX:MaxRAMPercentage=(\\d+(?:\\.\\d+)?)");

    /**
     * Each service container has a memory limit and an explicit heap relative to it: {@code -XX:MaxRAMPercentage} in
     * JAVA_OPTS_APPEND (which replaces the image's value, so it must keep the image's own flags) or JAVA_MAX_MEM_RATIO,
     * between 25 and 80 percent (room for metaspace, threads, direct buffers of Netty).
     */
    static List<String> heap(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (String deployment : ServiceModule.MODULES.keySet()) {
            Optional<ObjectNode> d = m.find("Deployment", deployment);
            if (d.isEmpty()) {
                continue;
            }
            JsonNode c = Manifests.containers(d.get()).get(0);
            String where = "Deployment " + deployment + " container " + c.path("name").asText();
            if (!c.path("resources").path("limits").has("memory")) {
                problems.add(where + ": no memory limit");
            }
            Map<String, String> env = Manifests.env(c);
            Double percent = null;
            String append = env.get("JAVA_OPTS_APPEND");
            if (append != null) {
                Matcher max = MAX_RAM.matcher(append);
                if (max.find()) {
                    percent = Double.parseDouble(max.group(1));
                }
                for (String flag : ServiceModule.of(deployment).imageJavaOptsAppend().split("\\s+")) {
                    if (!flag.isBlank() && !Arrays.asList(append.split("\\s+")).contains(flag)) {
                        problems.add(where + " env JAVA_OPTS_APPEND replaces the image's value and drops " + flag);
                    }
                }
            }
            if (percent == null && env.containsKey("JAVA_MAX_MEM_RATIO")) {
                percent = Double.parseDouble(env.get("JAVA_MAX_MEM_RATIO"));
            }
            if (percent == null) {
                problems.add(where + ": heap not set relative to the limit (JAVA_OPTS_APPEND -XX:MaxRAMPercentage=… or JAVA_MAX_MEM_RATIO)");
            } else if (percent < 25 || percent > 80) {
                problems.add(where + ": heap " + percent + "% of the container limit, expected 25–80%");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- Kafka storage and spread (conventions 8)

    /**
     * Resources on the node pools, not on the Kafka; in production every persistent volume names its storage class
     * and the pool's pods spread across zones and hosts with a selector that selects those pods.
     */
    static List<String> kafkaPlacement(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode kafka : m.kind("Kafka")) {
            if (kafka.path("spec").path("kafka").has("resources")) {
                problems.add(Manifests.label(kafka) + " spec.kafka.resources: belongs on the KafkaNodePool");
            }
        }
        List<Manifests.Pods> pods = m.pods();
        for (ObjectNode pool : m.kind("KafkaNodePool")) {
            String where = Manifests.label(pool);
            if (!pool.path("spec").path("resources").path("limits").has("memory")) {
                problems.add(where + " spec.resources: no memory limit");
            }
            if (!m.isProduction()) {
                continue;
            }
            JsonNode storage = pool.path("spec").path("storage");
            List<JsonNode> volumes = storage.has("volumes") ? Manifests.list(storage.path("volumes")) : List.of(storage);
            for (JsonNode v : volumes) {
                if ("persistent-claim".equals(v.path("type").asText()) && v.path("class").asText("").isBlank()) {
                    problems.add(where + " spec.storage volume " + v.path("id").asText("") + ": no storage class");
                } else if (!"persistent-claim".equals(v.path("type").asText())) {
                    problems.add(where + " spec.storage volume " + v.path("id").asText("") + ": " + v.path("type").asText()
                            + " storage in production");
                }
            }
            Map<String, Integer> keys = new LinkedHashMap<>();
            Manifests.Pods own = pods.stream().filter(p -> p.owner().endsWith(" pool " + Manifests.name(pool))).findFirst().orElse(null);
            for (JsonNode c : pool.path("spec").path("template").path("pod").path("topologySpreadConstraints")) {
                Map<String, String> selector = Manifests.strings(c.path("labelSelector").path("matchLabels"));
                if (selector.isEmpty() || own == null || !own.labels().entrySet().containsAll(selector.entrySet())) {
                    problems.add(where + " topologySpreadConstraint " + c.path("topologyKey").asText() + ": labelSelector "
                            + selector + " does not select the pool's pods");
                }
                keys.merge(c.path("topologyKey").asText(), 1, Integer::sum);
            }
            for (String key : Set.of("topology.kubernetes.io/zone", "kubernetes.io/hostname")) {
                if (!keys.containsKey(key)) {
                    problems.add(where + " spec.template.pod.topologySpreadConstraints: none across " + key);
                }
            }
        }
        return problems;
    }
}
