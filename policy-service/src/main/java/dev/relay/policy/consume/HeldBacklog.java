package dev.relay.policy.consume;

import dev.relay.common.kafka.KafkaClients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The held backlog for the {@code relay.policy.held.messages} gauge: records on the held topic that the releasers'
 * consumer group has not committed yet, summed over all partitions, every few seconds. Cluster-wide (every
 * policy instance reports the same value: aggregate with max, not sum). The group's offsets are read before the
 * end offsets, so a sample can only be too high, by the held messages being re-parked at that moment.
 */
final class HeldBacklog implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(HeldBacklog.class);
    private static final long REFRESH_SECONDS = 2;

    private final Admin admin;
    private final String topic;
    private final String group;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "relay-held-backlog");
        t.setDaemon(true);
        return t;
    });
    private volatile long value;

    HeldBacklog(Map<String, Object> kafka, String topic, String group) {
        Properties props = KafkaClients.settings(kafka);
        this.admin = Admin.create(props);
        this.topic = topic;
        this.group = group;
    }

    HeldBacklog start() {
        timer.scheduleWithFixedDelay(this::refresh, 0, REFRESH_SECONDS, TimeUnit.SECONDS);
        return this;
    }

    long value() {
        return value;
    }

    private void refresh() {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                    Map.of(group, new ListConsumerGroupOffsetsSpec())).partitionsToOffsetAndMetadata(group)
                    .get(10, TimeUnit.SECONDS);
            TopicDescription description = admin.describeTopics(List.of(topic)).topicNameValues().get(topic)
                    .get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> first = new HashMap<>();
            description.partitions().forEach(p -> {
                latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
                first.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
            });
            // a partition the group never committed counts from its first record still there
            Map<TopicPartition, Long> earliest = new HashMap<>();
            admin.listOffsets(first).all().get(10, TimeUnit.SECONDS)
                    .forEach((tp, info) -> earliest.put(tp, info.offset()));
            long sum = 0;
            for (var end : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
                OffsetAndMetadata done = committed.get(end.getKey());
                long from = done == null ? earliest.getOrDefault(end.getKey(), 0L) : done.offset();
                sum += Math.max(0, end.getValue().offset() - from);
            }
            value = sum;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debugf("held backlog not measured: %s", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close();
    }
}
