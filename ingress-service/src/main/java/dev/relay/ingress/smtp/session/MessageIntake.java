package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MessageBuffer;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.SessionState.State;

/**
 * The transaction's message sink: DATA and BDAT give the client's bytes a buffer of the transaction's own (with our
 * {@code Received:} line first); at the end of the message it is checked and either refused (the transaction is
 * reset, which gives its memory back) or handed to the publisher, whose answer becomes the reply. A published
 * message's memory is given back by {@link #onSettled}, once the producer is done with the record.
 */
final class MessageIntake {

    private final SessionState s;

    /** The rule reported for a header From: the identity may not use, as the shared checks name it. */
    static final String HEADER_FROM_RULE = "header-from-not-owned";

    MessageIntake(SessionState s) {
        this.s = s;
    }

    Action data() {
        Transaction transaction = s.transaction;
        Reply refusal = transaction == null ? Replies.NEED_MAIL
                : transaction.recipients.isEmpty() ? Replies.NEED_RCPT
                : transaction.chunked ? Replies.MIXED_DATA_BDAT : null;
        if (refusal != null) {
            return s.error(refusal);
        }
        if (s.memory.exhausted()) {
            return s.send(Replies.NO_MEMORY);
        }
        s.state = State.DATA;
        transaction.buffer = newBuffer();
        return new Action.ReadData(Replies.START_DATA, new DataDecoder(transaction.buffer));
    }

    Action bdat(Command.Bdat bdat) {
        Transaction transaction = s.transaction;
        Reply refusal = transaction == null ? Replies.NEED_MAIL
                : transaction.recipients.isEmpty() ? Replies.NEED_RCPT : null;
        if (refusal != null) {
            return discardChunk(bdat, s.error(refusal));
        }
        if (!transaction.chunked) {
            if (s.memory.exhausted()) {
                return discardChunk(bdat, s.send(Replies.NO_MEMORY));
            }
            transaction.chunked = true;
            transaction.buffer = newBuffer();
        }
        s.state = State.CHUNK;
        return new Action.ReadChunk(bdat.size(), bdat.last(), transaction.buffer, null);
    }

    /** The chunk must still be read off the wire, then the refusal is sent. */
    static Action discardChunk(Command.Bdat bdat, Action refusal) {
        Reply reply = refusal instanceof Action.Send send ? send.reply() : ((Action.SendAndClose) refusal).reply();
        return new Action.ReadChunk(bdat.size(), bdat.last(), null, reply);
    }

    private MessageBuffer newBuffer() {
        Transaction transaction = s.transaction;
        byte[] received = ReceivedHeader.build(s.heloName, s.clientAddress, s.settings.serverName(), s.protocol(),
                transaction.messageId, transaction.recipients);
        return new MessageBuffer(s.settings.maxMessageSize(), s.settings.maxLineLength(), s.memory, received);
    }

    /** A BDAT chunk has been read completely into the buffer the {@link Action.ReadChunk} named. */
    Action onChunk(Action.ReadChunk chunk) {
        s.state = State.READY;
        if (chunk.buffer() == null) {
            return s.send(chunk.refusal());
        }
        if (!chunk.last()) {
            if (chunk.buffer().failed()) { // RFC 3030 §2: after a refused chunk the transaction has failed
                Reply refusal = MessageChecks.refusal(chunk.buffer(), s.settings);
                s.refused(refusal, null, null, null);
                s.resetTransaction();
                return s.send(refusal);
            }
            return s.send(Replies.chunkReceived(chunk.size()));
        }
        return finish();
    }

    /** The message is complete: refused (the transaction is reset) or handed to the publisher with its buffer. */
    Action finish() {
        s.state = State.READY;
        MessageBuffer buffer = s.transaction.buffer;
        Reply refusal = buffer.size() > s.maxMessageSize() ? Replies.MESSAGE_TOO_BIG
                : MessageChecks.refusal(buffer, s.settings);
        if (refusal != null) {
            s.refused(refusal, null, null, null);
            s.resetTransaction();
            return s.send(refusal);
        }
        Transaction tx = s.transaction;
        s.transaction = null;
        tx.takeBuffer();
        byte[] message = buffer.bytes();
        Reply fromRefusal = MessageChecks.fromRefusal(message, s.settings.rules(), s.identity);
        if (fromRefusal != null) {
            s.refused(tx, fromRefusal, HEADER_FROM_RULE, null, null);
            buffer.release();
            return s.send(fromRefusal);
        }
        Envelope envelope = new Envelope(Envelope.VERSION, tx.messageId, System.currentTimeMillis(), s.clientAddress,
                s.heloName, s.listener.tag(), s.tls, s.identity, tx.mailFrom,
                tx.recipients.stream().map(MailAddress::toString).toList(), tx.params.smtputf8(), tx.params.body(),
                message.length, null, 0, tx.dsn()).withTrustedNetwork(s.settings.rules().trusts(s.clientAddress));
        s.state = State.PUBLISHING;
        return new Action.Publish(envelope, message, buffer);
    }

    /**
     * Kafka acknowledged the record (or did not, in time): the reply. The message's memory stays reserved until
     * {@link #onSettled}, because after a timeout the record may still sit in the producer.
     */
    Action onPublished(Action.Publish publish, boolean stored) {
        s.state = State.READY;
        if (!stored) {
            return s.send(Replies.QUEUE_UNAVAILABLE);
        }
        s.queuedIds.add(publish.envelope().messageId());
        return s.send(Replies.queued(publish.envelope().messageId()));
    }

    /**
     * The producer is done with a published record (acknowledged, failed or expired): the one place a published
     * message's reservation is given back. Called exactly once per {@link Action.Publish}, possibly after the reply
     * and even after the connection closed.
     */
    static void onSettled(Action.Publish publish) {
        publish.buffer().release();
    }
}
