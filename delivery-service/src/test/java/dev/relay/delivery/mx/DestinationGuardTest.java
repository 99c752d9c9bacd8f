package dev.relay.delivery.mx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class DestinationGuardTest {

    private final DestinationGuard strict = new DestinationGuard(false);

    @Test
    void shouldRefuseLoopbackWhenPrivateDestinationsAreNotAllowed() {
        assertThat(strict.permits("127.0.0.1")).isFalse();
    }

    @Test
    void shouldAllowLoopbackWhenPrivateDestinationsAreAllowed() {
        assertThat(new DestinationGuard(true).permits("127.0.0.1")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
            "169.254.169.254", "169.254.1.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1",
            "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1"})
    void shouldRefuseNonPublicAddress(String address) {
        assertThat(strict.permits(address)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.215.14", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1",
            "2606:4700::6810:84e5", "2001:4860:4860::8888"})
    void shouldPermitPublicAddress(String address) {
        assertThat(strict.permits(address)).isTrue();
    }

    @Test
    void shouldRefuseWhatIsNotAnIpLiteral() {
        assertThat(new DestinationGuard(true).permits("mx.example.org")).isFalse();
    }
}
