package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyHeaderTest {

    private static ProxyHeader.Result parse(byte[] b) {
        return ProxyHeader.parse(b, b.length);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void shouldParseVersionOneAndLeaveTheRestToSmtp() {
        byte[] b = ascii("PROXY TCP4 198.51.100.7 192.0.2.1 56324 25\r\nEHLO x\r\n");
        assertThat(parse(b)).isEqualTo(new ProxyHeader.Result.Parsed("198.51.100.7", 44));
        assertThat(parse(ascii("PROXY TCP6 2001:db8::7 2001:db8::1 56324 25\r\n")))
                .isInstanceOfSatisfying(ProxyHeader.Result.Parsed.class,
                        p -> assertThat(p.sourceAddress()).isEqualTo("2001:db8:0:0:0:0:0:7"));
        assertThat(parse(ascii("PROXY UNKNOWN\r\n"))).isEqualTo(new ProxyHeader.Result.Parsed(null, 15));
    }

    @Test
    void shouldWaitForMoreBytes() {
        assertThat(parse(ascii("PROX"))).isInstanceOf(ProxyHeader.Result.NeedMore.class);
        assertThat(parse(ascii("PROXY TCP4 198.51.100.7"))).isInstanceOf(ProxyHeader.Result.NeedMore.class);
        assertThat(parse(new byte[]{0x0D, 0x0A, 0x0D})).isInstanceOf(ProxyHeader.Result.NeedMore.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "EHLO client.example\r\n",
            "PROXY TCP4 example.com 192.0.2.1 1 25\r\n",
            "PROXY TCP4 198.51.100.7 192.0.2.1 99999 25\r\n",
            "PROXY TCP4 2001:db8::7 192.0.2.1 1 25\r\n",
            "PROXY TCP4 127.1 192.0.2.1 1 25\r\n",
            "PROXY TCP6 beef 2001:db8::1 1 25\r\n",
            "PROXY UDP4 198.51.100.7 192.0.2.1 1 25\r\n",
            "PROXY TCP4 198.51.100.7 192.0.2.1 1 25\n"
    })
    void shouldRefuseAnythingElse(String header) {
        ProxyHeader.Result r = parse(ascii(header));
        assertThat(r).isNotInstanceOf(ProxyHeader.Result.Parsed.class);
    }

    @Test
    void shouldRefuseAnOverlongVersionOneLine() {
        assertThat(parse(ascii("PROXY TCP4 " + "1".repeat(120)))).isInstanceOf(ProxyHeader.Result.Invalid.class);
    }

    @Test
    void shouldParseVersionTwo() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[]{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // v2, PROXY
        b.write(0x11); // TCP over IPv4
        b.writeBytes(new byte[]{0, 12});
        b.writeBytes(new byte[]{(byte) 198, 51, 100, 7, (byte) 192, 0, 2, 1, (byte) 0xDC, 0x04, 0, 25});
        b.writeBytes(ascii("EHLO"));
        assertThat(parse(b.toByteArray())).isEqualTo(new ProxyHeader.Result.Parsed("198.51.100.7", 28));

        byte[] local = b.toByteArray().clone();
        local[12] = 0x20; // LOCAL: the load balancer's own health check
        assertThat(parse(local)).isEqualTo(new ProxyHeader.Result.Parsed(null, 28));

        byte[] truncated = java.util.Arrays.copyOf(b.toByteArray(), 20);
        assertThat(parse(truncated)).isInstanceOf(ProxyHeader.Result.NeedMore.class);

        byte[] badVersion = b.toByteArray().clone();
        badVersion[12] = 0x31;
        assertThat(parse(badVersion)).isInstanceOf(ProxyHeader.Result.Invalid.class);
    }
}
