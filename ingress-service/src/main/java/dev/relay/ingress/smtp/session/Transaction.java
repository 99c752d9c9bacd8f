package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Dsn;
import dev.relay.ingress.smtp.protocol.MessageBuffer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Transaction scope: everything between MAIL and the end of DATA/BDAT (or RSET). Replaced, never cleared. */
final class Transaction {

    final String mailFrom;
    final EnvelopeParameters.Mail params;
    final List<MailAddress> recipients = new ArrayList<>();
    final Map<String, Dsn.Recipient> dsnRecipients = new LinkedHashMap<>();
    String messageId;
    /** The BDAT chunks received so far; null until the first BDAT. */
    MessageBuffer chunks;

    Transaction(String mailFrom, EnvelopeParameters.Mail params) {
        this.mailFrom = mailFrom;
        this.params = params;
    }

    Dsn dsn() {
        Dsn dsn = new Dsn(params.ret(), params.envid(), dsnRecipients);
        return dsn.isEmpty() ? null : dsn;
    }
}
