package dev.relay.common.net;

import dev.relay.common.rules.Per;
import dev.relay.common.rules.Subject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientKeyTest {

    @Test
    void shouldKeyIpv6ByItsPrefixAndIpv4ByItsAddress() {
        assertThat(ClientKey.of("2001:db8:1:2::1")).isEqualTo("2001:db8:1:2:0:0:0:0/64");
        assertThat(ClientKey.of("2001:DB8:1:2:aaaa:bbbb:cccc:dddd")).isEqualTo("2001:db8:1:2:0:0:0:0/64");
        assertThat(ClientKey.of("2001:db8:1:2::1%eth0")).isEqualTo("2001:db8:1:2:0:0:0:0/64");
        assertThat(ClientKey.of("::1", 128)).isEqualTo("0:0:0:0:0:0:0:1/128");
        assertThat(ClientKey.of("2001:db8:1:2ff::1", 56)).isEqualTo("2001:db8:1:200:0:0:0:0/56");
        assertThat(ClientKey.of("192.0.2.1")).isEqualTo("192.0.2.1");
        assertThat(ClientKey.of("::ffff:192.0.2.1")).isEqualTo("192.0.2.1");
        assertThat(ClientKey.of("0:0:0:0:0:ffff:c000:201")).isEqualTo("192.0.2.1");
    }

    @Test
    void shouldLeaveAnythingThatIsNotALiteralAsItIs() {
        for (String text : List.of("f00d.cafe", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::1.2.3.999", "g::1")) {
            assertThat(ClientKey.of(text)).as(text).isEqualTo(text);
        }
        assertThat(ClientKey.of(null)).isNull();
    }

    @Test
    void shouldCountRateLimitsOfOneSlash64Together() {
        Subject a = Subject.of(null, "a@example.test", "2001:db8:1:2::1");
        Subject b = Subject.of(null, "b@example.test", "2001:db8:1:2::beef");
        assertThat(a.key(Per.CLIENT_ADDRESS)).isEqualTo(b.key(Per.CLIENT_ADDRESS));
        assertThat(Subject.of(null, "", "192.0.2.7").key(Per.CLIENT_ADDRESS)).contains("192.0.2.7");
    }
}
