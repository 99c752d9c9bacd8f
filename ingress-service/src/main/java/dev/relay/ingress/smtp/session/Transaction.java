package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;

import java.util.ArrayList;
import java.util.List;

/** Transaction scope: everything between MAIL and the end of DATA (or RSET). Replaced, never cleared. */
final class Transaction {

    final String mailFrom;
    final boolean smtputf8;
    final String body;
    final List<MailAddress> recipients = new ArrayList<>();

    Transaction(String mailFrom, boolean smtputf8, String body) {
        this.mailFrom = mailFrom;
        this.smtputf8 = smtputf8;
        this.body = body;
    }
}
