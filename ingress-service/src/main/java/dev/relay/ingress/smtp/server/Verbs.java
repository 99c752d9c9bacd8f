package dev.relay.ingress.smtp.server;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/** The verb of a command line as the edge counts it: for metrics (a bounded tag) and for RFC 2920 groups. */
final class Verbs {

    private static final Set<String> GROUP_ENDERS = Set.of("EHLO", "HELO", "DATA", "VRFY", "QUIT", "NOOP", "AUTH");

    private Verbs() {
    }

    /** RFC 2920 §3.1: EHLO, HELO, DATA, VRFY, QUIT, NOOP and AUTH end a pipelined group. */
    static boolean endsGroup(String verb) {
        return GROUP_ENDERS.contains(verb);
    }

    /** The verb of a line, or OTHER for anything that is not one of ours (metrics tags stay bounded). */
    static String of(byte[] line) {
        int n = 0;
        while (n < line.length && n < 8 && line[n] != ' ') {
            n++;
        }
        String verb = new String(line, 0, n, StandardCharsets.US_ASCII).toUpperCase();
        return switch (verb) {
            case "EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS",
                    "AUTH" -> verb;
            default -> "OTHER";
        };
    }
}
