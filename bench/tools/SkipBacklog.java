import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Moves a consumer group to the end of a topic, so that messages written there by the benchmark are not processed
 * when the (stopped) consumer starts again. The group must have no active member.
 * Run with the broker's jars: {@code java -cp '.cache/kafka-4.1.2/libs/*' bench/tools/SkipBacklog.java
 * 127.0.0.1:9092 relay-delivery relay.outbound.v1}
 */
public class SkipBacklog {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        String group = args[1];
        String topic = args[2];
        try (Admin admin = Admin.create(p)) {
            int partitions = admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int i = 0; i < partitions; i++) {
                latest.put(new TopicPartition(topic, i), OffsetSpec.latest());
            }
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetAndMetadata> target = new HashMap<>();
            long skipped = 0;
            for (var e : admin.listOffsets(latest).all().get().entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                skipped += e.getValue().offset() - (c == null ? 0 : c.offset());
                target.put(e.getKey(), new OffsetAndMetadata(e.getValue().offset()));
            }
            admin.alterConsumerGroupOffsets(group, target).all().get();
            System.out.println("consumer group " + group + " moved to the end of " + topic + ": " + skipped
                    + " benchmark records will not be delivered");
        }
    }
}
