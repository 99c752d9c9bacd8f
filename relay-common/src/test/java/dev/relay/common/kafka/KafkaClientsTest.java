package dev.relay.common.kafka;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaClientsTest {

    @Test
    void shouldCarryEveryServiceSettingIntoACopy() {
        Map<String, Object> kafka = new HashMap<>(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "security.protocol", "SSL"));
        Properties props = KafkaClients.settings(kafka);
        props.put("client.id", "mine");
        assertThat(props).containsEntry("bootstrap.servers", "127.0.0.1:9092").containsEntry("security.protocol", "SSL");
        assertThat(kafka).doesNotContainKey("client.id");
    }

    @Test
    void shouldMakeADurableProducerWhateverTheServiceSays() {
        Properties props = KafkaClients.durableProducer(Map.of("bootstrap.servers", "127.0.0.1:9092",
                ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"));
        assertThat(props).containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")
                .containsEntry("bootstrap.servers", "127.0.0.1:9092");
    }
}
