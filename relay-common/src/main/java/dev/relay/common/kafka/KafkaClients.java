package dev.relay.common.kafka;

import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.Map;
import java.util.Properties;

/**
 * Settings for the Kafka clients a service creates by hand (admin clients, producers whose acknowledgement a reply
 * waits for, the shared consumers), built from the service's Kafka configuration: the map Quarkus publishes as
 * {@code default-kafka-broker} (bootstrap servers, security). Each client then adds only what is its own (client id,
 * time-outs, consumer positions), so that a security setting given to the service reaches every client.
 */
public final class KafkaClients {

    private KafkaClients() {
    }

    /** A copy of the service's settings, as they are: enough for an admin client. */
    public static Properties settings(Map<String, Object> kafka) {
        Properties props = new Properties();
        props.putAll(kafka);
        return props;
    }

    /**
     * Settings for a producer whose acknowledged send is durable and written once: {@code acks=all} and
     * idempotence, whatever the service's settings say.
     */
    public static Properties durableProducer(Map<String, Object> kafka) {
        Properties props = settings(kafka);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return props;
    }
}
