import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KafkaCluster;

import java.nio.file.Path;

/**
 * A Kafka of bench/run.sh's own, on ports never the local stack's (9092...) or the tests' (19092), with the relay's
 * topics created. Runs until this JVM is stopped (SIGTERM), which also stops the brokers.
 * Run with the testkit's classpath: {@code java -cp 'relay-testkit/target/relay-testkit-*.jar:relay-testkit/target/lib/*'
 * bench/tools/BenchKafka.java <work dir> <port> <controller port>} for one broker (topics with one replica), or
 * {@code ... BenchKafka.java <work dir> cluster 3} for a replicated cluster of three on free ports it picks (topics
 * with 3 replicas, min.insync.replicas 2; see KafkaCluster), printing {@code READY <bootstrap servers>} and one
 * {@code NODE <pid>} line per broker.
 */
public class BenchKafka {
    public static void main(String[] args) throws Exception {
        if (args[1].equals("cluster")) {
            KafkaCluster cluster = KafkaCluster.start(Path.of(args[0]), Integer.parseInt(args[2]));
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "bench-kafka-stop"));
            cluster.createRelayTopics();
            for (KafkaBroker node : cluster.nodes()) {
                System.out.println("NODE " + node.process().pid());
            }
            System.out.println("READY " + cluster.bootstrapServers());
        } else {
            KafkaBroker broker = KafkaBroker.start(Path.of(args[0]), Integer.parseInt(args[1]),
                    Integer.parseInt(args[2]));
            KafkaBroker.createRelayTopics(broker.bootstrapServers());
            System.out.println("READY " + broker.bootstrapServers());
        }
        Thread.currentThread().join();
    }
}
