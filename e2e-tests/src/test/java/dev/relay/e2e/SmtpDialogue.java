package dev.relay.e2e;

import dev.relay.testkit.SmtpTestClient;

import java.io.IOException;

/**
 * relay-testkit's {@link SmtpTestClient} under the name the load generator ({@code MailLoad}) still uses; every
 * other test uses {@link SmtpTestClient} itself. To be removed when {@code MailLoad} switches.
 */
final class SmtpDialogue extends SmtpTestClient {

    SmtpDialogue(int port) throws IOException {
        super(port);
    }
}
