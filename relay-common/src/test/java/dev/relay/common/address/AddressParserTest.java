package dev.relay.common.address;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class AddressParserTest {

    @ParameterizedTest
    @CsvSource({
            "user@example.com, user, example.com",
            "first.last+tag@Sub.Example.COM, first.last+tag, Sub.Example.COM",
            "\"quoted user\"@example.com, \"quoted user\", example.com",
            "o'brien@example.com, o'brien, example.com"
    })
    void shouldAcceptOrdinaryMailboxes(String path, String local, String domain) {
        ParsedAddress parsed = AddressParser.parse(path, false);
        assertThat(parsed).isEqualTo(new ParsedAddress.Valid(new MailAddress(local, domain)));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "@relay.example:user@victim.example",      // source route
            "@a.example,@b.example:user@c.example",    // multi-hop source route
            "user%victim.example@local.example",      // percent hack
            "victim.example!user@local.example",      // bang path
            "\"user@victim.example\"@local.example",  // quoted @
            "\"user%other.example\"@local.example",   // quoted percent hack
            "\"other.example!user\"@local.example",   // quoted bang path
            "\"a@b\"@local.example",
            "\"user\\%other.example\"@local.example",  // escaped percent, still routing once unquoted
            "\"user\\@other.example\"@local.example",
            "user@[192.0.2.1]",                       // address literal
            "user@[IPv6:2001:db8::1]"
    })
    void shouldRefuseRelayTricksAsPolicy(String path) {
        ParsedAddress parsed = AddressParser.parse(path, false);
        assertThat(parsed).isInstanceOfSatisfying(ParsedAddress.Invalid.class,
                invalid -> assertThat(invalid.policy()).isTrue());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "user", "user@", "@", ".user@example.com", "us..er@example.com", "user.@example.com",
            "user@-bad.example", "user@bad-.example", "user@exa mple.com", "user@example..com",
            "us er@example.com", "\"unterminated@example.com", "user@example.com\r\nRCPT TO:<x@y>",
            "user\u0000@example.com", "ü@example.com"
    })
    void shouldRefuseMalformedAddresses(String path) {
        assertThat(AddressParser.parse(path, false)).isInstanceOf(ParsedAddress.Invalid.class);
    }

    @org.junit.jupiter.api.Test
    void shouldAcceptUtf8OnlyWithSmtputf8() {
        assertThat(AddressParser.parse("jörg@bücher.example", true)).isInstanceOf(ParsedAddress.Valid.class);
        assertThat(AddressParser.parse("jörg@bücher.example", false)).isInstanceOf(ParsedAddress.Invalid.class);
    }

    @org.junit.jupiter.api.Test
    void shouldEnforceRfc5321Lengths() {
        String local64 = "a".repeat(64);
        assertThat(AddressParser.parse(local64 + "@example.com", false)).isInstanceOf(ParsedAddress.Valid.class);
        assertThat(AddressParser.parse(local64 + "a@example.com", false)).isInstanceOf(ParsedAddress.Invalid.class);
        String longDomain = ("a".repeat(60) + ".").repeat(5) + "com";
        assertThat(AddressParser.parse("u@" + longDomain, false)).isInstanceOf(ParsedAddress.Invalid.class);
    }
}
