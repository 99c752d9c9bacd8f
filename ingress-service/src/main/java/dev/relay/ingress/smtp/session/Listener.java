package dev.relay.ingress.smtp.session;

/** The three SMTP listeners and what each demands of a client. */
public enum Listener {
    /** The MX/relay port (25): STARTTLS offered, AUTH only after TLS, AUTH not required. */
    RELAY(false, false),
    /** Submission (587, RFC 6409): STARTTLS, AUTH required before MAIL. */
    SUBMISSION(false, true),
    /** Submissions (465, RFC 8314): implicit TLS, AUTH required. */
    SUBMISSIONS(true, true);

    private final boolean implicitTls;
    private final boolean authRequired;

    Listener(boolean implicitTls, boolean authRequired) {
        this.implicitTls = implicitTls;
        this.authRequired = authRequired;
    }

    public boolean implicitTls() {
        return implicitTls;
    }

    public boolean authRequired() {
        return authRequired;
    }

    public String tag() {
        return name().toLowerCase();
    }
}
