package dev.relay.delivery.mtasts;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StsPolicyTest {

    @Test
    void shouldParseThePolicyOfRfc8461() {
        StsPolicy.Parsed parsed = StsPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                + "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n");

        assertThat(parsed).isEqualTo(new StsPolicy.Parsed.Good(new StsPolicy(StsPolicy.Mode.ENFORCE,
                java.util.List.of("mail.example.com", "*.example.net", "backupmx.example.com"), 604800)));
    }

    @Test
    void shouldAcceptBareLineFeedsUnknownKeysAndClampMaxAge() {
        StsPolicy.Parsed parsed = StsPolicy.parse("version:STSv1\nmode:  testing\nfoo: bar\nmx: MX.Example.ORG.\n"
                + "max_age: 99999999999\n");

        assertThat(parsed).isInstanceOfSatisfying(StsPolicy.Parsed.Good.class, good -> {
            assertThat(good.policy().mode()).isEqualTo(StsPolicy.Mode.TESTING);
            assertThat(good.policy().maxAgeSeconds()).isEqualTo(StsPolicy.MAX_AGE_LIMIT);
            assertThat(good.policy().matches("mx.example.org")).isTrue();
        });
    }

    @Test
    void shouldRefuseIncompletePolicies() {
        assertThat(StsPolicy.parse("mode: enforce\nmx: a.test\nmax_age: 60\n")).isInstanceOf(StsPolicy.Parsed.Bad.class);
        assertThat(StsPolicy.parse("version: STSv1\nmode: strict\nmx: a.test\nmax_age: 60\n"))
                .isInstanceOf(StsPolicy.Parsed.Bad.class);
        assertThat(StsPolicy.parse("version: STSv1\nmode: enforce\nmax_age: 60\n"))
                .isInstanceOf(StsPolicy.Parsed.Bad.class);
        assertThat(StsPolicy.parse("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n"))
                .isInstanceOf(StsPolicy.Parsed.Bad.class);
        assertThat(StsPolicy.parse("version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 60\n"))
                .isInstanceOf(StsPolicy.Parsed.Bad.class);
        assertThat(StsPolicy.parse("<html>not a policy</html>")).isInstanceOf(StsPolicy.Parsed.Bad.class);
        // mode none needs no mx
        assertThat(StsPolicy.parse("version: STSv1\nmode: none\nmax_age: 60\n"))
                .isInstanceOf(StsPolicy.Parsed.Good.class);
    }

    @Test
    void aWildcardMatchesExactlyOneLabel() {
        StsPolicy policy = new StsPolicy(StsPolicy.Mode.ENFORCE, java.util.List.of("*.example.org", "mx.example.net"),
                60);

        assertThat(policy.matches("mx1.example.org")).isTrue();
        assertThat(policy.matches("MX1.EXAMPLE.ORG.")).isTrue();
        assertThat(policy.matches("a.b.example.org")).isFalse();
        assertThat(policy.matches("example.org")).isFalse();
        assertThat(policy.matches("mx.example.net")).isTrue();
        assertThat(policy.matches("other.example.net")).isFalse();
    }
}
