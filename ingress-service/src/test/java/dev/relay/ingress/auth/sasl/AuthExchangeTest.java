package dev.relay.ingress.auth.sasl;

import dev.relay.ingress.smtp.protocol.Command;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** The SASL exchange ends in the credentials to verify: for token mechanisms, the bearer token itself. */
class AuthExchangeTest {

    private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl-_";

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldHandOverTheBearerTokenOfAnXoauth2InitialResponse() {
        AuthExchange.Step step = new AuthExchange().start(
                new Command.Auth("XOAUTH2", base64("user=u\u0001auth=Bearer " + TOKEN + "\u0001\u0001")));
        assertThat(step).isEqualTo(new AuthExchange.Step.Verify(new Credentials.Token("XOAUTH2", TOKEN)));
    }

    @Test
    void shouldHandOverTheBearerTokenOfAnOauthbearerResponseAfterTheChallenge() {
        AuthExchange exchange = new AuthExchange();
        assertThat(exchange.start(new Command.Auth("OAUTHBEARER", null)))
                .isInstanceOf(AuthExchange.Step.Challenge.class);
        byte[] line = base64("n,a=u,\u0001auth=Bearer " + TOKEN + "\u0001\u0001").getBytes(StandardCharsets.US_ASCII);
        assertThat(exchange.respond(line))
                .isEqualTo(new AuthExchange.Step.Verify(new Credentials.Token("OAUTHBEARER", TOKEN)));
    }

    @Test
    void shouldVerifyAMalformedTokenResponseAsNoToken() {
        AuthExchange.Step step = new AuthExchange().start(new Command.Auth("OAUTHBEARER", base64("no token here")));
        assertThat(step).isEqualTo(new AuthExchange.Step.Verify(new Credentials.Token("OAUTHBEARER", null)));
    }

    @Test
    void shouldHandOverAPlainPasswordWithoutShowingIt() {
        AuthExchange.Step step = new AuthExchange().start(new Command.Auth("PLAIN", base64("\0demo\0secret-pw")));
        assertThat(step)
                .isEqualTo(new AuthExchange.Step.Verify(new Credentials.Password("PLAIN", "demo", "secret-pw")));
        assertThat(step.toString()).doesNotContain("secret-pw");
    }
}
