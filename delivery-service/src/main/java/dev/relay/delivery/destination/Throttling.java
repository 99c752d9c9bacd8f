package dev.relay.delivery.destination;

import java.util.regex.Pattern;

/**
 * Which replies mean "you are sending too much, slow down": {@code 421} in any phase (the server closes the
 * channel, RFC 5321 §3.8), and any transient reply with an enhanced status code of class 4.7.x (RFC 3463
 * "security or policy status": rate limits, too many connections, reputation). A greylisting server also answers
 * 4.7.x; the back-off it causes (1 minute at first) is shorter than any greylisting delay, so nothing is lost.
 * Connection failures are not throttling: the next MX handles them, and the retry schedule paces them.
 */
public final class Throttling {

    private static final Pattern POLICY = Pattern.compile("^4\\d\\d[ -]4\\.7\\.\\d{1,3}\\b.*", Pattern.DOTALL);

    private Throttling() {
    }

    /** @param reply a reply in text form, {@code 451 4.7.1 slow down} */
    public static boolean isThrottling(int code, String reply) {
        return code == 421 || (code >= 400 && code < 500 && reply != null && POLICY.matcher(reply).matches());
    }
}
