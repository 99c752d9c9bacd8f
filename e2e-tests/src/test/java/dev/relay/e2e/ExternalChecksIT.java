package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The ingress judged by scanners we did not write: nmap's {@code smtp-open-relay} against every listener (not an
 * open relay), and testssl.sh against every listener that speaks TLS (nothing below the documented floor: TLS 1.2
 * and 1.3 only, forward-secret AEAD suites only). Both are Debian packages; the test installs them with apt-get
 * when it runs as root and they are missing, and fails with the command to run otherwise.
 *
 * <p>Only the ingress runs (with the shared Kafka and Keycloak): relay decisions are taken in the SMTP session, so
 * that is what a scanner sees. Its rules come from a rules topic of its own, so the seed applies: {@code example.test}
 * is local, no trusted network, relaying needs an authenticated identity. A capture MX, which accepts every
 * recipient, is scanned too as the control: nmap must call it an open relay, or the verdict parsing proves nothing.
 * Each scanner's raw report is kept in {@code e2e-tests/target/external-checks/}.
 */
class ExternalChecksIT {

    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final Path REPORTS = RelayRoot.get().resolve("e2e-tests/target/external-checks");
    /** nmap's verdicts (smtp-open-relay.nse): "Server is an open relay (n/16 tests)" versus the two refusals. */
    private static final Pattern OPEN = Pattern.compile("Server is an open relay \\((\\d+)/(\\d+) tests\\)");
    private static final List<String> NOT_OPEN = List.of("Server doesn't seem to be an open relay, all tests failed",
            "Server isn't an open relay, authentication needed");
    /** testssl.sh's verdict lines that must all read "not offered". */
    private static final List<String> MUST_NOT_OFFER = List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL",
            "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA");
    /** Obsoleted CBC suites: "cipherlist_AVERAGE" in testssl.sh 3.0, "cipherlist_OBSOLETED" in 3.2. */
    private static final List<String> CBC_CATEGORY = List.of("cipherlist_AVERAGE", "cipherlist_OBSOLETED");
    /** One line of {@code testssl.sh -e}: hex code, name, key exchange, bits, encryption, ... */
    private static final Pattern CIPHER = Pattern.compile("^x\\p{XDigit}+\\s+(\\S+)\\s+(\\S+)\\s+\\S+\\s+(\\S+)");

    private static CaptureMx openRelayControl;
    private static RelayService ingress;
    private static final Map<String, Integer> LISTENERS = new LinkedHashMap<>();

    @BeforeAll
    static void startIngress() throws IOException {
        ensureInstalled("nmap", "nmap");
        ensureInstalled("testssl", "testssl.sh");
        Files.createDirectories(REPORTS);
        KeycloakServer keycloak = KeycloakServer.shared();
        KafkaBroker kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        String rulesTopic = "external-checks-" + RUN + ".rules";
        kafka.createCompactedTopic(rulesTopic);
        LISTENERS.put("relay", RelayService.freePort());
        LISTENERS.put("submission", RelayService.freePort());
        LISTENERS.put("submissions", RelayService.freePort());
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(LISTENERS.get("relay")));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(LISTENERS.get("submission")));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(LISTENERS.get("submissions")));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_RULES_TOPIC", rulesTopic);
        // nmap tries 16 relay tricks in one session; at the default 10 refused commands the ingress (rightly) hangs
        // up before nmap reaches its verdict, which would leave the question unanswered
        env.put("RELAY_INGRESS_SMTP_MAX_ERRORS", "100");
        ingress = RelayService.start("ingress-service", env);
        openRelayControl = CaptureMx.start(0, null);
    }

    @AfterAll
    static void stop() {
        if (ingress != null) {
            ingress.close();
        }
        if (openRelayControl != null) {
            openRelayControl.close();
        }
    }

    @Test
    void nmapShouldFindNoListenerToBeAnOpenRelay() {
        Map<Integer, String> verdicts = nmapOpenRelay("relay", LISTENERS.values().stream().toList());

        assertThat(verdicts).containsOnlyKeys(LISTENERS.values());
        LISTENERS.forEach((listener, port) -> assertThat(openRelay(verdicts.get(port)))
                .as("nmap smtp-open-relay on the %s listener (%d): %s", listener, port, verdicts.get(port))
                .isFalse());
    }

    @Test
    void nmapShouldCallTheAcceptEverythingControlAnOpenRelay() {
        int port = openRelayControl.port();
        Map<Integer, String> verdicts = nmapOpenRelay("control", List.of(port));

        assertThat(openRelay(verdicts.get(port))).as("nmap on the capture MX (accepts everything): %s",
                verdicts.get(port)).isTrue();
    }

    @Test
    void testsslShouldFindNothingBelowTheFloorOnAnyTlsListener() {
        Map<String, CompletableFuture<Map<String, String>>> scans = new LinkedHashMap<>();
        LISTENERS.forEach((listener, port) -> scans.put(listener,
                CompletableFuture.supplyAsync(() -> testssl(listener, port, !listener.equals("submissions")))));

        scans.forEach((listener, scan) -> {
            Map<String, String> findings = scan.join();
            String where = listener + " listener (" + LISTENERS.get(listener) + "), " + REPORTS.resolve(listener
                    + "-testssl.csv");
            MUST_NOT_OFFER.forEach(id -> assertThat(findings.get(id)).as("%s on the %s", id, where)
                    .startsWith("not offered"));
            assertThat(CBC_CATEGORY.stream().filter(findings::containsKey).toList())
                    .as("obsoleted CBC category on the %s", where).hasSize(1)
                    .allSatisfy(id -> assertThat(findings.get(id)).as(id).startsWith("not offered"));
            assertThat(findings.get("TLS1_2")).as("TLS1_2 on the %s", where).startsWith("offered");
            assertThat(findings.get("TLS1_3")).as("TLS1_3 on the %s", where).startsWith("offered");
            List<String[]> ciphers = ciphers(findings);
            assertThat(ciphers).as("ciphers offered on the %s", where).isNotEmpty();
            ciphers.forEach(c -> {
                assertThat(c[1]).as("key exchange of %s on the %s", c[0], where).isIn("ECDH", "DH");
                assertThat(c[2]).as("encryption of %s on the %s", c[0], where).isIn("AESGCM", "ChaCha20");
            });
        });
    }

    @Test
    void verdictParsingShouldNotMistakeAnOpenRelayForAClosedOne() {
        assertThat(openRelay("Server is an open relay (1/16 tests)\n  MAIL FROM:<antispam@nmap.scanme.org>")).isTrue();
        assertThat(openRelay("Server doesn't seem to be an open relay, all tests failed")).isFalse();
        assertThat(openRelay("Server isn't an open relay, authentication needed")).isFalse();
        for (String inconclusive : new String[] {"SMTP RSET: failed to receive data: connection closed", "", null}) {
            assertThatThrownBy(() -> openRelay(inconclusive)).as("an inconclusive nmap result: %s", inconclusive)
                    .isInstanceOf(AssertionError.class);
        }
    }

    // ------------------------------------------------------------------------------------------------------- nmap

    /** Runs nmap's smtp-open-relay on {@code ports}; returns its output per port (absent when the script did not run). */
    private static Map<Integer, String> nmapOpenRelay(String name, List<Integer> ports) {
        Path xml = REPORTS.resolve(name + "-nmap.xml");
        // '+' runs the scripts whatever service nmap guesses for an unusual port; smtp-open-relay tries plain text
        // first and then TLS, so the implicit-TLS listener is scanned over TLS
        ExternalTool.Result nmap = ExternalTool.run(Duration.ofMinutes(3), "nmap", "-Pn", "-n", "-p",
                String.join(",", ports.stream().map(String::valueOf).toList()),
                "--script", "+smtp-open-relay,+smtp-commands", "-oX", xml.toString(), "127.0.0.1");
        assertThat(nmap.exitCode()).as(nmap.describe()).isZero();
        try {
            return openRelayVerdicts(Files.readString(xml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<Integer, String> openRelayVerdicts(String xml) {
        Map<Integer, String> verdicts = new HashMap<>();
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            Document doc = factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
            NodeList ports = doc.getElementsByTagName("port");
            for (int i = 0; i < ports.getLength(); i++) {
                Element port = (Element) ports.item(i);
                NodeList scripts = port.getElementsByTagName("script");
                for (int j = 0; j < scripts.getLength(); j++) {
                    Element script = (Element) scripts.item(j);
                    if (script.getAttribute("id").equals("smtp-open-relay")) {
                        verdicts.put(Integer.parseInt(port.getAttribute("portid")), script.getAttribute("output"));
                    }
                }
            }
        } catch (Exception e) {
            fail("nmap's XML report is unreadable: " + e + "\n" + xml);
        }
        return verdicts;
    }

    /** True for nmap's "is an open relay", false for its two refusals; anything else fails the test. */
    private static boolean openRelay(String verdict) {
        assertThat(verdict).as("nmap's smtp-open-relay verdict").isNotNull();
        Matcher open = OPEN.matcher(verdict);
        if (open.find()) {
            return true;
        }
        if (NOT_OPEN.stream().anyMatch(v -> verdict.strip().equals(v))) {
            return false;
        }
        return fail("nmap's smtp-open-relay gave no verdict: " + verdict);
    }

    // ---------------------------------------------------------------------------------------------------- testssl

    /** testssl.sh protocols (-p), cipher categories (-s) and every cipher (-e); returns id → finding of its CSV. */
    private static Map<String, String> testssl(String listener, int port, boolean starttls) {
        Path csv = REPORTS.resolve(listener + "-testssl.csv");
        try {
            Files.deleteIfExists(csv);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(List.of("testssl", "--quiet", "--color", "0", "--warnings", "off",
                "-p", "-s", "-e", "--csvfile", csv.toString()));
        if (starttls) {
            command.addAll(List.of("--starttls", "smtp"));
        }
        command.add("127.0.0.1:" + port);
        ExternalTool.Result result = ExternalTool.run(Duration.ofMinutes(4), command.toArray(String[]::new));
        try {
            Files.writeString(REPORTS.resolve(listener + "-testssl.txt"), result.describe());
            return csvFindings(Files.readString(csv, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return fail("testssl.sh wrote no CSV report: " + e + "\n" + result.describe());
        }
    }

    /** Lines {@code "id","fqdn/ip","port","severity","finding","cve","cwe"}; ids repeat only for notes we ignore. */
    private static Map<String, String> csvFindings(String csv) {
        Map<String, String> findings = new LinkedHashMap<>();
        Pattern line = Pattern.compile("^\"([^\"]*)\",\"[^\"]*\",\"[^\"]*\",\"[^\"]*\",\"([^\"]*)\"");
        csv.lines().forEach(l -> {
            Matcher m = line.matcher(l);
            if (m.find()) {
                findings.putIfAbsent(m.group(1), m.group(2));
            }
        });
        return findings;
    }

    /** Every {@code cipher_*} finding as {name, key exchange, encryption}. */
    private static List<String[]> ciphers(Map<String, String> findings) {
        List<String[]> ciphers = new ArrayList<>();
        findings.forEach((id, finding) -> {
            if (id.startsWith("cipher_x")) {
                Matcher m = CIPHER.matcher(finding.strip());
                assertThat(m.find()).as("unreadable cipher line %s: %s", id, finding).isTrue();
                ciphers.add(new String[] {m.group(1), m.group(2), m.group(3)});
            }
        });
        return ciphers;
    }

    // ---------------------------------------------------------------------------------------------------- tools

    /** Installs a missing Debian package when running as root (as CI does), else fails with the command to run. */
    private static void ensureInstalled(String program, String debianPackage) {
        String hint = "install it with `apt-get install -y " + debianPackage + "`";
        if (ExternalTool.run(Duration.ofSeconds(10), "sh", "-c", "command -v " + program).exitCode() == 0) {
            return;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            fail(program + " is not installed and this test is not root: " + hint);
        }
        ExternalTool.Result install = ExternalTool.run(Duration.ofMinutes(5), "sh", "-c",
                "(command -v apt-cache >/dev/null && apt-cache show " + debianPackage + " >/dev/null 2>&1"
                        + " || apt-get update -qq) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
                        + " --no-install-recommends " + debianPackage);
        assertThat(install.exitCode()).as("installing %s: %s\n%s", debianPackage, hint, install.describe()).isZero();
    }
}
