package dev.relay.deploy;

import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.nodepool.ProcessRoles;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import io.strimzi.api.kafka.model.user.acl.AclRuleGroupResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTopicResource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The Strimzi objects match what the services are configured to use, and allow nothing more. */
class KafkaTest {

    /** 10 MiB messages (relay.ingress.smtp.max-message-size) plus envelope header and batch overhead. */
    static final int MESSAGE_TOPIC_MAX_BYTES = 16 * 1024 * 1024;

    static List<String> overlays() {
        return ManifestStructureTest.overlays();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldDeclareEveryTopicAServiceUsesWithFittingSettings(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        int replicas = r.isProduction() ? 3 : 1;
        long maxMessage = Long.parseLong(ServiceModule.of("relay-ingress").value("relay.ingress.smtp.max-message-size",
                ManifestStructureTest.env(r.deployment("relay-ingress").getSpec().getTemplate().getSpec().getContainers().get(0))));
        assertThat(MESSAGE_TOPIC_MAX_BYTES).isGreaterThan((int) maxMessage + 1024 * 1024);
        Set<String> used = new TreeSet<>();
        for (String service : ServiceModule.MODULES.keySet()) {
            for (Topics.Use use : Topics.of(r, service)) {
                used.add(use.topic());
                KafkaTopic topic = Topics.topic(r, use.topic());
                Map<String, Object> config = topic.getSpec().getConfig();
                assertThat(topic.getSpec().getReplicas()).as(use.topic()).isEqualTo(replicas);
                assertThat(String.valueOf(config.get("min.insync.replicas"))).as(use.topic())
                        .isEqualTo(String.valueOf(r.isProduction() ? 2 : 1));
                if (use.carriesMessages()) {
                    assertThat(Long.parseLong(String.valueOf(config.get("max.message.bytes")))).as(use.topic())
                            .isGreaterThanOrEqualTo(MESSAGE_TOPIC_MAX_BYTES);
                }
            }
        }
        assertThat(used).contains("relay.inbound.v1", "relay.outbound.v1", "relay.retry.v1.1m", "relay.retry.v1.8h",
                "relay.events.v1", "relay.dlq.v1");
        // README "Topics": the rules topic is compacted; deferred mail outlives the retry max-age on every tier
        assertThat(Topics.topic(r, "relay.rules.v1").getSpec().getConfig()).containsEntry("cleanup.policy", "compact");
        // the suppression list is compacted: the latest entry (or tombstone) per address
        assertThat(Topics.topic(r, "relay.suppression.v1").getSpec().getConfig())
                .containsEntry("cleanup.policy", "compact");
        // webhook subscriptions are compacted: the latest version (or tombstone) per id
        assertThat(Topics.topic(r, "relay.webhooks.v1").getSpec().getConfig())
                .containsEntry("cleanup.policy", "compact");
        // rate limits: usage counts are compacted and outlive the longest window (a day) with a margin; held
        // messages carry whole messages and last as long as inbound ones
        Map<String, Object> usage = Topics.topic(r, "relay.usage.v1").getSpec().getConfig();
        assertThat(String.valueOf(usage.get("cleanup.policy"))).contains("compact");
        assertThat(Duration.ofMillis(Long.parseLong(String.valueOf(usage.get("retention.ms")))))
                .isGreaterThan(Duration.ofDays(1).plusHours(1));
        assertThat(Long.parseLong(String.valueOf(Topics.topic(r, "relay.held.v1").getSpec().getConfig()
                .get("retention.ms")))).isGreaterThanOrEqualTo(Long.parseLong(String.valueOf(
                Topics.topic(r, "relay.inbound.v1").getSpec().getConfig().get("retention.ms"))));
        String maxAge = ServiceModule.of("relay-delivery").value("relay.delivery.retry.max-age",
                ManifestStructureTest.env(r.deployment("relay-delivery").getSpec().getTemplate().getSpec().getContainers().get(0)));
        List<String> tiers = used.stream().filter(t -> t.startsWith("relay.retry.v1.")).toList();
        assertThat(tiers).hasSize(8);
        for (String tier : tiers) {
            long retention = Long.parseLong(String.valueOf(Topics.topic(r, tier).getSpec().getConfig().get("retention.ms")));
            assertThat(Duration.ofMillis(retention)).as(tier).isGreaterThan(ManifestStructureTest.duration(maxAge));
        }
        for (KafkaTopic t : r.all(KafkaTopic.class)) {
            assertThat(t.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", "relay-kafka");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldRunKraftWithDurableReplicationAndAclsEnforced(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        Kafka kafka = r.one(Kafka.class, "relay-kafka");
        Map<String, Object> config = kafka.getSpec().getKafka().getConfig();
        assertThat(String.valueOf(config.get("unclean.leader.election.enable"))).isEqualTo("false");
        assertThat(String.valueOf(config.get("auto.create.topics.enable"))).isEqualTo("false");
        assertThat(kafka.getSpec().getKafka().getAuthorization().getType()).isEqualTo("simple");
        assertThat(kafka.getSpec().getKafka().getListeners()).allSatisfy(l -> {
            assertThat(l.isTls()).isTrue();
            assertThat(l.getAuth().getType()).isEqualTo("scram-sha-512");
        });
        KafkaNodePool pool = r.all(KafkaNodePool.class).get(0);
        assertThat(pool.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", "relay-kafka");
        assertThat(pool.getSpec().getRoles()).contains(ProcessRoles.CONTROLLER, ProcessRoles.BROKER);
        if (r.isProduction()) {
            assertThat(pool.getSpec().getReplicas()).isEqualTo(3);
            assertThat(String.valueOf(config.get("min.insync.replicas"))).isEqualTo("2");
            assertThat(String.valueOf(config.get("default.replication.factor"))).isEqualTo("3");
        }
        for (String service : ServiceModule.MODULES.keySet()) {
            String bootstrap = ManifestStructureTest.env(r.deployment(service).getSpec().getTemplate().getSpec()
                    .getContainers().get(0)).get("KAFKA_BOOTSTRAP_SERVERS");
            // the short name or the name qualified with the overlay's namespace (conventions: KEDA needs the latter)
            String namespace = kafka.getMetadata().getNamespace();
            assertThat(bootstrap).matches("relay-kafka-kafka-bootstrap(\\." + java.util.regex.Pattern.quote(namespace)
                    + "\\.svc(\\.cluster\\.local)?)?:" + kafka.getSpec().getKafka().getListeners().get(0).getPort());
        }
    }

    /** What the issue grants each service; everything it is configured to use must be inside, nothing else. */
    static final Map<String, Set<String>> GRANTED = Map.of(
            "relay-ingress", Set.of("topic relay.inbound.v1 Write", "topic relay.rules.v1 Read",
                    "topic relay.usage.v1 Read"),
            "relay-policy", Set.of("topic relay.inbound.v1 Read", "group relay-policy Read",
                    "topic relay.outbound.v1 Write", "topic relay.events.v1 Write", "topic relay.dlq.v1 Write",
                    "topic relay.events.v1 Read", "group relay-policy-trace Read",
                    "topic relay-policy-trace-relay-trace-store-changelog Read",
                    "topic relay-policy-trace-relay-trace-store-changelog Write",
                    "topic relay-policy-trace-relay-trace-store-changelog DescribeConfigs",
                    "topic relay.rules.v1 Read", "topic relay.rules.v1 Write",
                    "topic relay.usage.v1 Read", "topic relay.usage.v1 Write", "topic relay.held.v1 Read",
                    "topic relay.held.v1 Write", "group relay-policy-held Read",
                    "topic relay.suppression.v1 Read", "topic relay.suppression.v1 Write",
                    "topic relay.webhooks.v1 Read", "topic relay.webhooks.v1 Write",
                    "topic relay.webhooks.retry.v1 Read", "topic relay.webhooks.retry.v1 Write",
                    "topic relay.webhooks.dead.v1 Read", "topic relay.webhooks.dead.v1 Write",
                    "group relay-policy-webhooks Read", "group relay-policy-webhooks-retry Read"),
            "relay-delivery", deliveryGrants());

    /** Outbound read (and written: DSNs), the retry tiers read and written, events and dead letters written. */
    private static Set<String> deliveryGrants() {
        Set<String> grants = new HashSet<>(Set.of("topic relay.outbound.v1 Read", "topic relay.outbound.v1 Write",
                "group relay-delivery Read", "group relay-delivery-retry Read", "topic relay.events.v1 Write",
                "topic relay.dlq.v1 Write", "topic relay.suppression.v1 Read", "topic relay.suppression.v1 Write",
                "topic relay.tlsrpt.v1 Read", "topic relay.tlsrpt.v1 Write", "group relay-delivery-tlsrpt Read"));
        for (String tier : List.of("1m", "5m", "15m", "30m", "1h", "2h", "4h", "8h")) {
            grants.add("topic relay.retry.v1." + tier + " Read");
            grants.add("topic relay.retry.v1." + tier + " Write");
        }
        return Set.copyOf(grants);
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldLetEachServiceUseOnlyItsOwnTopicsAndGroup(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        for (String service : ServiceModule.MODULES.keySet()) {
            KafkaUser user = r.one(KafkaUser.class, service);
            assertThat(user.getSpec().getAuthentication().getType()).isEqualTo("scram-sha-512");
            Set<String> granted = new HashSet<>();
            for (AclRule acl : ((KafkaUserAuthorizationSimple) user.getSpec().getAuthorization()).getAcls()) {
                String resource;
                if (acl.getResource() instanceof AclRuleTopicResource t) {
                    assertThat(t.getPatternType().toValue()).as(service + " topic ACLs are literal").isEqualTo("literal");
                    resource = "topic " + t.getName();
                } else if (acl.getResource() instanceof AclRuleGroupResource g) {
                    assertThat(g.getPatternType().toValue()).as(service + " group ACLs are literal").isEqualTo("literal");
                    resource = "group " + g.getName();
                } else {
                    resource = "cluster";
                }
                acl.getOperations().forEach(op -> granted.add(resource + " " + op.toValue()));
            }
            granted.removeIf(g -> g.endsWith(" Describe") || g.equals("cluster IdempotentWrite"));
            assertThat(granted).as(service + " ACLs").containsExactlyInAnyOrderElementsOf(GRANTED.get(service));
            for (Topics.Use use : Topics.of(r, service)) {
                assertThat(granted).as(service + " uses " + use)
                        .contains("topic " + use.topic() + (use.write() ? " Write" : " Read"));
                if (use.group() != null) {
                    assertThat(granted).contains("group " + use.group() + " Read");
                }
            }
            String jaasSecret = r.deployment(service).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()
                    .stream().filter(e -> e.getName().equals("KAFKA_SASL_JAAS_CONFIG")).findFirst().orElseThrow()
                    .getValueFrom().getSecretKeyRef().getName();
            assertThat(jaasSecret).as("Strimzi writes the user's credentials to a Secret named after it").isEqualTo(service);
        }
    }
}
