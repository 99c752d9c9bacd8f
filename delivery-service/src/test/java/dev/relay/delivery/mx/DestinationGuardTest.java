package dev.relay.delivery.mx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard table: public addresses pass, internal ones only for a next hop configured {@code ;internal}, the rest
 * never. Before issue #12 NAT64, 6to4, IPv4-compatible, Teredo, site-local, documentation and benchmarking ranges
 * passed, and names such as {@code f00d.cafe} were resolved by the literal parser.
 */
class DestinationGuardTest {

    private final DestinationGuard strict = DestinationGuard.strict();

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
            "100.64.0.1", "100.127.255.254", "::1", "fc00::1", "fd00:ec2::254", "fec0::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "64:ff9b::a00:1", "64:ff9b::127.0.0.1", "2002:7f00:1::1", "2002:c0a8:101::"})
    void internalAddressesAreRefusedUnlessTheHopIsInternal(String address) {
        assertThat(strict.permits(address)).as(address).isFalse();
        assertThat(strict.permits(address, false)).as(address).isFalse();
        assertThat(strict.permits(address, true)).as(address + " for an internal hop").isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "0.1.2.3", "169.254.169.254", "169.254.1.1", "224.0.0.1", "239.1.2.3",
            "240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1",
            "198.18.0.1", "198.19.255.255", "::", "::a00:1", "::7f00:1", "::8.8.8.8", "fe80::1", "ff02::1",
            "100::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:10::1", "2001:20::1",
            "2001:db8::1", "3fff::1", "64:ff9b:1::a00:1", "64:ff9b:1::808:808", "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::ffff:0.0.0.0", "64:ff9b::c000:201"})
    void neverReachableAddressesAreRefusedEvenForInternalHops(String address) {
        assertThat(strict.permits(address)).as(address).isFalse();
        assertThat(strict.permits(address, true)).as(address + " for an internal hop").isFalse();
        assertThat(new DestinationGuard(true).permits(address)).as(address + " with the test-only switch").isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.215.14", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1",
            "192.0.1.1", "192.88.100.1", "2606:4700::6810:84e5", "2001:4860:4860::8888", "::ffff:8.8.8.8",
            "64:ff9b::808:808", "2002:808:808::1"})
    void publicAddressesPass(String address) {
        assertThat(strict.permits(address)).as(address).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"mx.example.org", "f00d.cafe", "beef", "127.1", "1.2.3", "0x7f.1", "0177.0.0.1",
            "2130706433", "[::1]", "fe80::1%eth0", ""})
    void whatIsNotAnIpLiteralIsRefused(String address) {
        assertThat(strict.permits(address, true)).as(address).isFalse();
        assertThat(new DestinationGuard(true).permits(address)).as(address).isFalse();
    }

    @Test
    void theTestOnlySwitchTreatsEveryDestinationAsInternal() {
        assertThat(new DestinationGuard(true).permits("127.0.0.1")).isTrue();
        assertThat(new DestinationGuard(true).permits("64:ff9b::a00:1")).isTrue();
    }
}
