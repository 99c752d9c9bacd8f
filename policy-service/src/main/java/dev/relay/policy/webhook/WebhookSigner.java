package dev.relay.policy.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The {@code Relay-Webhook-Signature} header: {@code sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">} with the
 * subscription's secret. The timestamp (epoch seconds, also in {@code Relay-Webhook-Timestamp}) is signed so that a
 * receiver can refuse old copies replayed at it.
 */
public final class WebhookSigner {

    private WebhookSigner() {
    }

    public static String signature(String secret, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
