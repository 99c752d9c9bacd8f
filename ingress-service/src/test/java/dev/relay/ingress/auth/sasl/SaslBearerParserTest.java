package dev.relay.ingress.auth.sasl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Byte vectors for the XOAUTH2 and OAUTHBEARER (RFC 7628 §3.1) client responses (^A is the byte 0x01). */
class SaslBearerParserTest {

    private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl-_";

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldExtractTheTokenOfAnXoauth2Response() {
        byte[] payload = bytes("user=demo@example.test\u0001auth=Bearer " + TOKEN + "\u0001\u0001");
        assertThat(SaslBearerParser.xoauth2Token(payload)).isEqualTo(TOKEN);
    }

    @Test
    void shouldExtractTheTokenOfAnXoauth2ResponseGivenAsRawBytes() {
        byte[] head = {'u', 's', 'e', 'r', '=', 'u', 0x01, 'a', 'u', 't', 'h', '=', 'B', 'e', 'a', 'r', 'e', 'r', ' ',
                'a', 'b', 'c', '.', 'd', 'e', 'f', '.', 'g', 'h', 'i', 0x01, 0x01};
        assertThat(SaslBearerParser.xoauth2Token(head)).isEqualTo("abc.def.ghi");
    }

    @Test
    void shouldAcceptTheBearerSchemeInAnyCase() {
        assertThat(SaslBearerParser.xoauth2Token(bytes("user=u\u0001auth=bEaReR " + TOKEN + "\u0001\u0001")))
                .isEqualTo(TOKEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",                                                          // empty
            "\u0001",                                                    // no pairs at all
            "user=u\u0001auth=Bearer abc\u0001",                         // final ^A missing
            "user=u\u0001auth=Bearer abc",                               // no ^A at all
            "user=u\u0001auth=Bearer abc\u0001\u0001\u0001",             // one ^A too many
            "user=u\u0001auth=Bearer abc\u0001\u0001x",                  // trailing bytes
            "auth=Bearer abc\u0001\u0001",                               // user missing
            "user=u\u0001\u0001",                                        // auth missing
            "user=u\u0001auth=Basic dTpw\u0001\u0001",                   // not a bearer token
            "user=u\u0001auth=Bearer\u0001\u0001",                       // no token
            "user=u\u0001auth=Bearer \u0001\u0001",                      // empty token
            "user=u\u0001auth=Bearer abc def\u0001\u0001",               // space inside the token
            "user=u\u0001auth=Bearer ab=c\u0001\u0001",                  // '=' only as trailing padding
            "user=u\u0001auth=Bearer abc\u0000\u0001\u0001",             // NUL
            "user=u\u0001auth=Bearer a\u0001auth=Bearer b\u0001\u0001",  // auth twice
            "user=u\u0001=x\u0001auth=Bearer abc\u0001\u0001",           // empty key
            "user=u\u0001no-equals\u0001auth=Bearer abc\u0001\u0001",    // pair without '='
            "user=u\u0001ke y=v\u0001auth=Bearer abc\u0001\u0001",       // key not ALPHA
    })
    void shouldRefuseMalformedXoauth2Responses(String payload) {
        assertThat(SaslBearerParser.xoauth2Token(bytes(payload))).isNull();
    }

    @Test
    void shouldRefuseXoauth2ResponsesThatAreNotUtf8() {
        byte[] payload = {'u', 's', 'e', 'r', '=', (byte) 0xC3, 0x01, 'a', 'u', 't', 'h', '=', 'B', 'e', 'a', 'r', 'e',
                'r', ' ', 'a', 0x01, 0x01};
        assertThat(SaslBearerParser.xoauth2Token(payload)).isNull();
        assertThat(SaslBearerParser.xoauth2Token(null)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "n,a=demo@example.test,\u0001auth=Bearer " + TOKEN + "\u0001\u0001",
            "n,,\u0001auth=Bearer " + TOKEN + "\u0001\u0001",
            "y,,\u0001auth=Bearer " + TOKEN + "\u0001\u0001",
            "n,a=demo,\u0001host=mail.example.test\u0001port=587\u0001auth=Bearer " + TOKEN + "\u0001\u0001",
            "n,a=d=2Cemo,\u0001auth=Bearer " + TOKEN + "\u0001\u0001",   // escaped ',' in the authzid
    })
    void shouldExtractTheTokenOfAnOauthbearerResponse(String payload) {
        assertThat(SaslBearerParser.oauthbearerToken(bytes(payload))).isEqualTo(TOKEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\u0001",                                                    // the client's answer to an error challenge
            "n,a=u,auth=Bearer abc\u0001\u0001",                         // gs2-header without its ^A
            "p=tls-unique,,\u0001auth=Bearer abc\u0001\u0001",           // channel binding is not part of RFC 7628
            "F,n,,\u0001auth=Bearer abc\u0001\u0001",                    // non-standard GS2 flag
            "x,,\u0001auth=Bearer abc\u0001\u0001",                      // unknown cb-flag
            "n,u=demo,\u0001auth=Bearer abc\u0001\u0001",                // not an authzid
            "n,a=de,mo,\u0001auth=Bearer abc\u0001\u0001",               // unescaped ',' in the authzid
            "n,\u0001auth=Bearer abc\u0001\u0001",                       // gs2-header cut short
            "n,,\u0001auth=Bearer abc\u0001",                            // final ^A missing
            "n,,\u0001\u0001",                                           // auth missing
            "n,,\u0001auth=Bearer abc\u0001\u0001\u0001",                // one ^A too many
            "n,,\u0001auth=Basic dTpw\u0001\u0001",                      // not a bearer token
            "n,,\u0001auth=Bearer abc\r\ndef\u0001\u0001",               // CRLF inside the token
    })
    void shouldRefuseMalformedOauthbearerResponses(String payload) {
        assertThat(SaslBearerParser.oauthbearerToken(bytes(payload))).isNull();
    }

    @Test
    void shouldRefuseAnOversizedPayload() {
        String token = "a".repeat(20_000);
        assertThat(SaslBearerParser.oauthbearerToken(bytes("n,,\u0001auth=Bearer " + token + "\u0001\u0001")))
                .isNull();
    }
}
