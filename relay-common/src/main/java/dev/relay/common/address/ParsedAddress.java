package dev.relay.common.address;

/** What {@link AddressParser} made of a path: a usable mailbox, or the reason it is refused. */
public sealed interface ParsedAddress {

    record Valid(MailAddress address) implements ParsedAddress {
    }

    /**
     * @param reason a short text safe to put in an SMTP reply
     * @param policy true when the syntax is legal but refused by Relay's policy (source routes, {@code %},
     *               {@code !}, quoted {@code @}, address literals): 553 5.1.3 / 5.7.1 territory rather than 501
     */
    record Invalid(String reason, boolean policy) implements ParsedAddress {
    }
}
