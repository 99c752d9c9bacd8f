package dev.relay.ingress.smtp.protocol;

import java.util.Map;

/** One parsed SMTP command line. Syntax problems are values too ({@link Invalid}), never exceptions. */
public sealed interface Command {

    /** The verb as a bounded metric tag. */
    String verb();

    record Helo(String domain, boolean extended) implements Command {
        public String verb() {
            return extended ? "EHLO" : "HELO";
        }
    }

    /** @param path the reverse path without brackets; "" for the null sender */
    record Mail(String path, Map<String, String> params) implements Command {
        public String verb() {
            return "MAIL";
        }
    }

    record Rcpt(String path, Map<String, String> params) implements Command {
        public String verb() {
            return "RCPT";
        }
    }

    /** @param initialResponse the optional initial response (RFC 4954 §4), null when absent */
    record Auth(String mechanism, String initialResponse) implements Command {
        public String verb() {
            return "AUTH";
        }
    }

    record Vrfy(String argument) implements Command {
        public String verb() {
            return "VRFY";
        }
    }

    /** BDAT (RFC 3030): a chunk of exactly {@code size} octets follows the command line. */
    record Bdat(long size, boolean last) implements Command {
        public String verb() {
            return "BDAT";
        }
    }

    /** Commands without arguments. */
    record Simple(String verb) implements Command {
    }

    /** A known verb that Relay does not implement (EXPN, TURN, ETRN, ...): 502. */
    record NotImplemented(String verb) implements Command {
    }

    /** Not a verb we know: 500. */
    record Unknown() implements Command {
        public String verb() {
            return "OTHER";
        }
    }

    /** The verb is known but the line is malformed: the reply says why (501/500). */
    record Invalid(String verb, Reply reply) implements Command {
    }
}
