package dev.relay.policy.trace;

import java.util.regex.Pattern;

/** What a queue id may look like: the ingress's 20 Crockford base32 characters, or a DSN's id derived from one. */
public final class TraceIds {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private TraceIds() {
    }

    public static boolean valid(String id) {
        return id != null && ID.matcher(id).matches();
    }
}
