package dev.relay.delivery.mtasts;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StsRecordTest {

    @Test
    void shouldReadTheIdOfTheOneStsRecord() {
        assertThat(StsRecord.of(List.of("v=STSv1; id=20160831085700Z;"))).isEqualTo(
                new StsRecord.Valid("20160831085700Z"));
        assertThat(StsRecord.of(List.of("v=spf1 -all", "v=STSv1;id=abc"))).isEqualTo(new StsRecord.Valid("abc"));
        assertThat(StsRecord.of(List.of("v=STSv1; id=abc; ext_1=x.y"))).isEqualTo(new StsRecord.Valid("abc"));
    }

    @Test
    void shouldFindNoRecordWhenNoneStartsWithTheVersion() {
        assertThat(StsRecord.of(List.of())).isInstanceOf(StsRecord.Absent.class);
        assertThat(StsRecord.of(List.of("v=spf1 -all", "id=abc; v=STSv1"))).isInstanceOf(StsRecord.Absent.class);
    }

    @Test
    void shouldRefuseSeveralOrMalformedRecords() {
        assertThat(StsRecord.of(List.of("v=STSv1; id=a", "v=STSv1; id=b"))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv1;"))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv1; id=has-dash"))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv1; id=" + "a".repeat(33)))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv10; id=abc"))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv1; id=abc; id=def"))).isInstanceOf(StsRecord.Invalid.class);
        assertThat(StsRecord.of(List.of("v=STSv1; id=abc; junk"))).isInstanceOf(StsRecord.Invalid.class);
    }
}
