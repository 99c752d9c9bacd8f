package dev.relay.delivery.tlsrpt;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RuaRecordTest {

    @Test
    void shouldReadSeveralRuaUris() {
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=mailto:tls@example.org,https://r.example.org/tls")))
                .contains(List.of(URI.create("mailto:tls@example.org"), URI.create("https://r.example.org/tls")));
    }

    @Test
    void shouldDiscardOtherTxtStringsAndAcceptSpacing() {
        assertThat(RuaRecord.parse(List.of("google-site-verification=x", "v=TLSRPTv1 ;rua = https://r.example.org/")))
                .contains(List.of(URI.create("https://r.example.org/")));
    }

    @Test
    void shouldTakeNoReportsFromMalformedOrAmbiguousRecords() {
        assertThat(RuaRecord.parse(List.of())).isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=https://a.example/", "v=TLSRPTv1; rua=https://b.example/")))
                .as("two records").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv10; rua=https://a.example/"))).as("other version").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1;"))).as("no rua").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=http://a.example/"))).as("plain http").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=mailto:nobody"))).as("no domain").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=https://a.example/; rua=https://b.example/")))
                .as("rua twice").isEmpty();
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=https://a.example/" + "x".repeat(3000))))
                .as("oversized").isEmpty();
    }

    @Test
    void shouldKeepTheGoodUrisOfAMixedListWithinItsBound() {
        String many = String.join(",", List.of("ftp://x.example/", "https://a.example/1", "https://a.example/2",
                "https://a.example/3", "https://a.example/4", "https://a.example/5", "https://a.example/6"));
        assertThat(RuaRecord.parse(List.of("v=TLSRPTv1; rua=" + many)).orElseThrow())
                .hasSize(RuaRecord.MAX_URIS).doesNotContain(URI.create("ftp://x.example/"));
    }
}
