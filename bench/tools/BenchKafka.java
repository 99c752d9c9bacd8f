import dev.relay.testkit.KafkaBroker;

import java.nio.file.Path;

/**
 * A Kafka broker of bench/run.sh's own, on ports the script chose (never the local stack's 9092 or the tests'
 * 19092), with the relay's topics created. Runs until this JVM is stopped (SIGTERM), which also stops the broker.
 * Run with the testkit's classpath: {@code java -cp 'relay-testkit/target/relay-testkit-*.jar:relay-testkit/target/lib/*'
 * bench/tools/BenchKafka.java <work dir> <port> <controller port>}
 */
public class BenchKafka {
    public static void main(String[] args) throws Exception {
        KafkaBroker broker = KafkaBroker.start(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        KafkaBroker.createRelayTopics(broker.bootstrapServers());
        System.out.println("READY " + broker.bootstrapServers());
        Thread.currentThread().join();
    }
}
