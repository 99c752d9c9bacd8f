package dev.relay.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.strimzi.api.kafka.model.topic.KafkaTopic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Which topics and consumer groups each service uses, from its configuration as deployed. */
final class Topics {

    private static final Pattern CHANNEL_TOPIC = Pattern.compile("mp\\.messaging\\.(incoming|outgoing)\\.([^.]+)\\.topic");

    /** One use of a topic: read (with its consumer group) or write; carriesMessages when the record is a mail. */
    record Use(String service, String topic, boolean write, String group, boolean carriesMessages) {
    }

    private Topics() {
    }

    static List<Use> of(Rendered r, String deployment) {
        ServiceModule module = ServiceModule.of(deployment);
        Container c = r.deployment(deployment).getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, String> env = ManifestStructureTest.env(c);
        List<Use> uses = new ArrayList<>();
        if (module.keys.containsKey("relay.ingress.publish.topic")) {
            // KafkaInboundPublisher: the message bytes, max.request.size = max-message-size + 1 MiB
            uses.add(new Use(deployment, module.value("relay.ingress.publish.topic", env), true, null, true));
        }
        if (module.keys.containsKey("relay.delivery.retry.topic-prefix")) {
            // the retry loop: written and read, one tier per distinct delay of the schedule (Topics.retryTier)
            String prefix = module.value("relay.delivery.retry.topic-prefix", env);
            List<Duration> schedule = Arrays.stream(module.value("relay.delivery.retry.schedule", env).split(","))
                    .map(d -> ManifestStructureTest.duration(d)).toList();
            String group = module.value("relay.delivery.retry.group-id", env);
            for (String tier : dev.relay.common.kafka.Topics.retryTiers(prefix, schedule)) {
                uses.add(new Use(deployment, tier, true, null, true));
                uses.add(new Use(deployment, tier, false, group, true));
            }
        }
        for (String key : module.keys.keySet()) {
            Matcher m = CHANNEL_TOPIC.matcher(key);
            if (!m.matches()) {
                continue;
            }
            String channel = "mp.messaging." + m.group(1) + "." + m.group(2) + ".";
            boolean incoming = m.group(1).equals("incoming");
            boolean carriesMessages = module.keys.containsKey(channel + "max.request.size")
                    || module.keys.containsKey(channel + "max.partition.fetch.bytes");
            uses.add(new Use(deployment, module.value(key, env), !incoming,
                    incoming ? module.value(channel + "group.id", env) : null, carriesMessages));
        }
        return uses;
    }

    static KafkaTopic topic(Rendered r, String topicName) {
        return r.all(KafkaTopic.class).stream()
                .filter(t -> topicName.equals(t.getSpec().getTopicName() != null ? t.getSpec().getTopicName()
                        : t.getMetadata().getName()))
                .findFirst().orElseThrow(() -> new AssertionError(r.overlay + ": no KafkaTopic for " + topicName));
    }

    static int partitions(Rendered r, String topicName) {
        return topic(r, topicName).getSpec().getPartitions();
    }
}
