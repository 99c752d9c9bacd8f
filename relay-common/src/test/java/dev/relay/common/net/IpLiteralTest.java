package dev.relay.common.net;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one IP literal parser: strict dotted quads and IPv6, nothing a resolver would treat as a name. Before it,
 * {@code Cidr.literal} handed anything hex-looking to {@code InetAddress.getByName}: {@code 127.1} and
 * {@code 1.2.3} became addresses, and names such as {@code f00d.cafe} were looked up in DNS (blocking).
 */
class IpLiteralTest {

    @ParameterizedTest
    @CsvSource({
            "192.0.2.1, 192.0.2.1",
            "0.0.0.0, 0.0.0.0",
            "255.255.255.255, 255.255.255.255",
            "::1, ::1",
            "::, ::",
            "2001:DB8::1, 2001:db8::1",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
            "fe80:0:0:0:0:0:0:1, fe80::1",
            "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
            "1:0:3:4:5:6:7:8, 1:0:3:4:5:6:7:8",
            "::ffff:127.0.0.1, ::ffff:7f00:1",
            "64:ff9b::10.0.0.1, 64:ff9b::a00:1",
            "64:ff9b::a00:1, 64:ff9b::a00:1",
            "1:2:3:4:5:6:1.2.3.4, 1:2:3:4:5:6:102:304",
    })
    void literals(String text, String canonical) {
        byte[] bytes = IpLiteral.parse(text);
        assertThat(bytes).as(text).isNotNull();
        assertThat(IpLiteral.format(bytes)).isEqualTo(canonical);
        assertThat(IpLiteral.parse(canonical)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f00d.cafe", "beef", "cafe", "dead.beef", "1.2.3", "127.1", "0x7f.1", "0x7f.0.0.1",
            "010.0.0.1", "1.2.3.4.5", "256.1.1.1", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.-4", " 1.2.3.4",
            "1.2.3.4 ", "[::1]", "fe80::1%eth0", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "12345::",
            "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1.2.3", "1.2.3.4::", "::ffff:1.2.3.4.5", "g::1",
            "1:2:3:4:5:6:7:1.2.3.4", "localhost", "", "\u0661.2.3.4", "\uff11::1"})
    void namesAndGarbageAreNotLiterals(String text) {
        assertThat(IpLiteral.parse(text)).as(text).isNull();
        assertThat(Cidr.literal(text)).as(text).isNull();
    }

    @Test
    void mappedAddressesStaySixteenBytesAndIpv6() {
        byte[] bytes = IpLiteral.parse("::ffff:127.0.0.1");
        assertThat(bytes).hasSize(16);
        assertThat(Cidr.isIpv4Mapped(bytes)).isTrue();
        assertThat(IpLiteral.toInetAddress(bytes)).isInstanceOf(Inet6Address.class);
        assertThat(IpLiteral.toInetAddress(bytes).getAddress()).isEqualTo(bytes);
    }

    @Test
    void anIpv4NetworkJudgesAMappedAddressByItsIpv4() {
        assertThat(Cidr.parse("127.0.0.0/8").contains("::ffff:127.0.0.1")).isTrue();
        assertThat(Cidr.parse("10.0.0.0/8").contains("::ffff:127.0.0.1")).isFalse();
        assertThat(Cidr.parse("127.0.0.0/8").contains("127.1")).isFalse();
    }
}
