package dev.relay.delivery.outcome;

/**
 * What was said about a recipient, kept as fields from where it was said to where it is reported: the retry
 * record, the events and the DSN read the code and the enhanced status from here, never from the text.
 *
 * @param phase          where it was decided
 * @param code           the reply code ({@code 550}), the remote server's or our own; 0 for a reason without one
 * @param enhancedStatus the RFC 3463 code of the reply ({@code 5.1.1}), null when it has none
 * @param text           the whole reply on one line as events, logs, the retry history and the DSN's
 *                       Diagnostic-Code show it ({@code 550 5.1.1 user unknown})
 */
public record Diagnostic(Phase phase, int code, String enhancedStatus, String text) {

    /** A reason decided here, in reply form: {@code code enhancedStatus reason}. */
    public static Diagnostic ours(Phase phase, int code, String enhancedStatus, String reason) {
        return new Diagnostic(phase, code, enhancedStatus, code + " " + enhancedStatus + " " + reason);
    }

    /** The enhanced status if it is of {@code wantedClass} ({@code '4'}, {@code '5'}), else {@code <class>.0.0}. */
    public String statusOfClass(char wantedClass) {
        return enhancedStatus != null && enhancedStatus.charAt(0) == wantedClass ? enhancedStatus
                : wantedClass + ".0.0";
    }
}
