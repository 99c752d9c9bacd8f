package dev.relay.policy.decide;

import dev.relay.common.rules.RuleSet;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Header hygiene on raw bytes: only the named fields change, everything else is byte for byte the same. */
class HeaderEditorTest {

    private static final String HEADER = ""
            + "Received: from client (client [192.0.2.1])\r\n\tby relay.localhost with ESMTPSA id X\r\n"
            + "X-Originating-IP: [192.0.2.1]\r\n"
            + "From: Demo <demo@example.test>\r\n"
            + "user-agent: Mutt/2.2\r\n"
            + "  (folded continuation)\r\n"
            + "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n"
            + "X-Originating-IP : [198.51.100.7]\r\n"
            + "DKIM-Signature: v=1; a=rsa-sha256; h=from:subject;\r\n b=abc\r\n";
    private static final String BODY = "User-Agent: not a header, this is the body\r\n"
            + "X-Originating-IP: neither\r\n.. dot-stuffed? no: stored unstuffed\r\n\u00e9t\u00e9 8-bit\r\n";

    private static byte[] message(String header, String body) {
        return (header + "\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static HeaderEditor.Edit edit(Set<String> strip, List<RuleSet.HeaderField> add) {
        return new HeaderEditor.Edit(strip, add, List.of("headers[0]"));
    }

    @Test
    void shouldStripEveryInstanceOfTheNamedFieldsWithTheirContinuationLinesAndNothingElse() {
        HeaderEditor.Result result = HeaderEditor.apply(edit(Set.of("x-originating-ip", "user-agent"), List.of()),
                message(HEADER, BODY));
        assertThat(text(result.message())).isEqualTo(""
                + "Received: from client (client [192.0.2.1])\r\n\tby relay.localhost with ESMTPSA id X\r\n"
                + "From: Demo <demo@example.test>\r\n"
                + "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n"
                + "DKIM-Signature: v=1; a=rsa-sha256; h=from:subject;\r\n b=abc\r\n"
                + "\r\n" + BODY);
        assertThat(result.stripped()).isEqualTo(3);
        assertThat(result.added()).isZero();
    }

    @Test
    void shouldPrependAddedFieldsAboveEverythingInRuleOrder() {
        byte[] original = message(HEADER, BODY);
        HeaderEditor.Result result = HeaderEditor.apply(edit(Set.of(), List.of(
                new RuleSet.HeaderField("X-Relay-Class", "bulk"), new RuleSet.HeaderField("X-Sent-Via", "relay"))),
                original);
        assertThat(text(result.message())).isEqualTo("X-Relay-Class: bulk\r\nX-Sent-Via: relay\r\n" + text(original));
        assertThat(result.added()).isEqualTo(2);
    }

    @Test
    void shouldReplaceAFieldWhenItIsBothStrippedAndAdded() {
        byte[] original = message("X-Sent-Via: spoofed\r\nFrom: a@example.test\r\n", "hi\r\n");
        HeaderEditor.Result result = HeaderEditor.apply(edit(Set.of("x-sent-via"),
                List.of(new RuleSet.HeaderField("X-Sent-Via", "relay"))), original);
        assertThat(text(result.message())).isEqualTo("X-Sent-Via: relay\r\nFrom: a@example.test\r\n\r\nhi\r\n");
    }

    @Test
    void shouldKeepTheBodyByteForByteIncludingEightBitAndBinaryOctets() {
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        byte[] head = "User-Agent: x\r\nFrom: a@example.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] original = new byte[head.length + body.length];
        System.arraycopy(head, 0, original, 0, head.length);
        System.arraycopy(body, 0, original, head.length, body.length);
        byte[] edited = HeaderEditor.apply(edit(Set.of("user-agent"), List.of()), original).message();
        byte[] expectedHead = "From: a@example.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(java.util.Arrays.copyOfRange(edited, 0, expectedHead.length)).isEqualTo(expectedHead);
        assertThat(java.util.Arrays.copyOfRange(edited, expectedHead.length, edited.length)).isEqualTo(body);
    }

    @Test
    void shouldStopAtALineThatIsNoHeaderField() {
        // no empty line after the header: what follows the first non-field line may be body, so it stays
        byte[] original = "From: a@example.test\r\nthis is not a field\r\nUser-Agent: stays\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        HeaderEditor.Result result = HeaderEditor.apply(edit(Set.of("user-agent"), List.of()), original);
        assertThat(result.message()).isEqualTo(original);
        assertThat(result.stripped()).isZero();
    }

    @Test
    void shouldHandleAMessageWithoutBodyOrFinalLineEnd() {
        byte[] headersOnly = "From: a@example.test\r\nUser-Agent: x\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(text(HeaderEditor.apply(edit(Set.of("user-agent"), List.of()), headersOnly).message()))
                .isEqualTo("From: a@example.test\r\n");
        byte[] unterminated = "From: a@example.test\r\nUser-Agent: x".getBytes(StandardCharsets.US_ASCII);
        assertThat(HeaderEditor.apply(edit(Set.of("user-agent"), List.of()), unterminated).message())
                .isEqualTo(unterminated);
    }

    @Test
    void shouldReturnTheSameBytesWhenThereIsNothingToDo() {
        byte[] original = message(HEADER, BODY);
        assertThat(HeaderEditor.apply(HeaderEditor.Edit.NONE, original).message()).isSameAs(original);
        HeaderEditor.Result nothingMatched = HeaderEditor.apply(edit(Set.of("x-absent"), List.of()), original);
        assertThat(nothingMatched.message()).isEqualTo(original);
        assertThat(nothingMatched.stripped()).isZero();
    }
}
