package dev.relay.common.dsn;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** RFC 3463 enhanced status codes: validation and extraction from an SMTP reply. */
public final class DsnStatus {

    private static final Pattern CODE = Pattern.compile("[245]\\.\\d{1,3}\\.\\d{1,3}");
    private static final Pattern IN_REPLY = Pattern.compile("^\\s*\\d{3}[ -]+([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s|$)");

    private DsnStatus() {
    }

    public static boolean isValid(String status) {
        return CODE.matcher(status).matches();
    }

    /**
     * The enhanced status code of a reply such as {@code 550 5.1.1 user unknown} when it has one of the wanted
     * class ({@code '5'} or {@code '4'}), else {@code <class>.0.0}.
     */
    public static String fromReply(String reply, char wantedClass) {
        if (reply != null) {
            Matcher m = IN_REPLY.matcher(reply);
            if (m.find() && m.group(1).charAt(0) == wantedClass) {
                return m.group(1);
            }
        }
        return wantedClass + ".0.0";
    }
}
