package dev.relay.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DNS responder over real UDP and TCP sockets, with queries written by hand (RFC 1035 §4.1). */
class DnsResponderTest {

    private static DnsResponder dns;

    @BeforeAll
    static void start() {
        dns = DnsResponder.start()
                .mx("example.org", 10, "mx1.example.org").mx("example.org", 20, "mx2.example.org")
                .a("mx1.example.org", "192.0.2.1").aaaa("mx1.example.org", "2001:db8::1")
                .nullMx("nullmx.example")
                .exists("empty.example")
                .servfail("broken.example")
                .silent("silent.example")
                .a("slow.example", "192.0.2.9").delay("slow.example", Duration.ofMillis(700))
                .a("long.example", "192.0.2.10").ttl("long.example", 86_400)
                .soa("zone.example", 300, 120).exists("empty.zone.example")
                .txt("_mta-sts.example.org", "v=STSv1; id=20261203;")
                .txt("long.txt.example", "x".repeat(300))
                .tlsa("_25._tcp.mx1.example.org", 3, 1, 1, new byte[]{1, 2, 3})
                .signed("example.org");
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    @Test
    void shouldAnswerTxtAsCharacterStringsSplitAt255Octets() throws Exception {
        byte[] answer = udp(query(7, "long.txt.example", DnsResponder.TYPE_TXT), 2000);

        assertEquals(1, answerCount(answer));
        // RDLENGTH 302: a 255-octet string and a 45-octet one, each behind its length octet
        int rdata = answer.length - 302;
        assertEquals(302, ((answer[rdata - 2] & 0xff) << 8) | (answer[rdata - 1] & 0xff));
        assertEquals(255, answer[rdata] & 0xff);
        assertEquals(45, answer[rdata + 256] & 0xff);
        assertEquals(0, answer[3] & 0x20, "no AD bit outside a signed zone");
    }

    @Test
    void shouldAnswerTlsaWithTheAdBitInASignedZone() throws Exception {
        byte[] answer = udp(query(8, "_25._tcp.mx1.example.org", DnsResponder.TYPE_TLSA), 2000);

        assertEquals(0, rcode(answer));
        assertEquals(1, answerCount(answer));
        assertArrayEquals(new byte[]{3, 1, 1, 1, 2, 3}, Arrays.copyOfRange(answer, answer.length - 6, answer.length));
        assertEquals(0x20, answer[3] & 0x20, "AD bit");
        byte[] txt = udp(query(9, "_mta-sts.example.org", DnsResponder.TYPE_TXT), 2000);
        assertTrue(new String(txt, StandardCharsets.US_ASCII).contains("v=STSv1; id=20261203;"));
        assertEquals(0x20, txt[3] & 0x20, "AD bit");
    }

    @Test
    void shouldAnswerMxOverUdp() throws Exception {
        byte[] answer = udp(query(1, "example.org", DnsResponder.TYPE_MX), 2000);

        assertEquals(0, rcode(answer));
        assertEquals(2, answerCount(answer));
        assertEquals(1, id(answer));
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("mx1") && text.contains("mx2"), text);
    }

    @Test
    void shouldAnswerAaaaOverTcp() throws Exception {
        byte[] answer = tcp(query(2, "MX1.example.org.", DnsResponder.TYPE_AAAA));

        assertEquals(0, rcode(answer));
        assertEquals(1, answerCount(answer));
        byte[] last16 = Arrays.copyOfRange(answer, answer.length - 16, answer.length);
        assertEquals("2001:db8:0:0:0:0:0:1", InetAddress.getByAddress(last16).getHostAddress());
    }

    @Test
    void shouldAnswerNullMxAsOneRecordWithTheRootName() throws Exception {
        byte[] answer = udp(query(3, "nullmx.example", DnsResponder.TYPE_MX), 2000);

        assertEquals(1, answerCount(answer));
        // RDLENGTH 3, then RDATA: preference 0, name "." (a single zero octet)
        assertArrayEquals(new byte[]{0, 3, 0, 0, 0}, Arrays.copyOfRange(answer, answer.length - 5, answer.length));
    }

    @Test
    void shouldAnswerNxdomainForUnknownNamesAndNodataForKnownOnes() throws Exception {
        assertEquals(3, rcode(udp(query(4, "nowhere.example", DnsResponder.TYPE_A), 2000)));
        byte[] nodata = udp(query(5, "empty.example", DnsResponder.TYPE_MX), 2000);
        assertEquals(0, rcode(nodata));
        assertEquals(0, answerCount(nodata));
    }

    @Test
    void shouldAnswerServfailWhenAskedTo() throws Exception {
        assertEquals(2, rcode(udp(query(6, "broken.example", DnsResponder.TYPE_MX), 2000)));
    }

    @Test
    void shouldNotAnswerSilentNames() throws Exception {
        assertThrows(SocketTimeoutException.class, () -> udp(query(7, "silent.example", DnsResponder.TYPE_MX), 500));
        assertTrue(dns.queries("silent.example") > 0);
    }

    @Test
    void shouldAnswerLateWhenDelayed() throws Exception {
        assertThrows(SocketTimeoutException.class, () -> udp(query(8, "slow.example", DnsResponder.TYPE_A), 200));
        assertEquals(1, answerCount(udp(query(9, "slow.example", DnsResponder.TYPE_A), 3000)));
    }

    @Test
    void shouldGiveRecordsTheDefaultTtlOrTheOneSetForTheName() throws Exception {
        byte[] usual = udp(query(11, "mx1.example.org", DnsResponder.TYPE_A), 2000);
        byte[] longer = udp(query(12, "long.example", DnsResponder.TYPE_A), 2000);

        // the last record: TTL (4 octets), RDLENGTH (2), RDATA (4 for A)
        assertEquals(DnsResponder.DEFAULT_TTL, uint32(usual, usual.length - 10));
        assertEquals(86_400, uint32(longer, longer.length - 10));
    }

    @Test
    void shouldPutTheSoaOfTheZoneInNegativeAnswersUnderIt() throws Exception {
        byte[] nxdomain = udp(query(13, "gone.zone.example", DnsResponder.TYPE_MX), 2000);
        byte[] nodata = udp(query(14, "empty.zone.example", DnsResponder.TYPE_A), 2000);
        byte[] outside = udp(query(15, "nowhere.example", DnsResponder.TYPE_A), 2000);

        assertEquals(3, rcode(nxdomain));
        assertEquals(1, authorityCount(nxdomain));
        assertEquals(120, uint32(nxdomain, nxdomain.length - 4)); // MINIMUM, the last field of the SOA
        assertEquals(0, rcode(nodata));
        assertEquals(1, authorityCount(nodata));
        assertEquals(0, authorityCount(outside));
    }

    @Test
    void shouldIgnoreGarbage() throws Exception {
        assertThrows(SocketTimeoutException.class, () -> udp(new byte[]{1, 2, 3}, 300));
        // still serving afterwards
        assertEquals(0, rcode(udp(query(10, "example.org", DnsResponder.TYPE_MX), 2000)));
    }

    private static byte[] query(int id, String name, int type) {
        ByteArrayOutputStream q = new ByteArrayOutputStream();
        q.writeBytes(new byte[]{(byte) (id >> 8), (byte) id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.replaceAll("\\.$", "").split("\\.")) {
            q.write(label.length());
            q.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        q.writeBytes(new byte[]{0, (byte) (type >> 8), (byte) type, 0, 1});
        return q.toByteArray();
    }

    private static byte[] udp(byte[] query, int timeoutMillis) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(timeoutMillis);
            socket.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), dns.port()));
            DatagramPacket reply = new DatagramPacket(new byte[4096], 4096);
            socket.receive(reply);
            return Arrays.copyOf(reply.getData(), reply.getLength());
        }
    }

    private static byte[] tcp(byte[] query) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), dns.port())) {
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write(new byte[]{(byte) (query.length >> 8), (byte) query.length});
            out.write(query);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            return in.readNBytes(in.readUnsignedShort());
        }
    }

    private static int id(byte[] answer) {
        return ((answer[0] & 0xff) << 8) | (answer[1] & 0xff);
    }

    private static int rcode(byte[] answer) {
        return answer[3] & 0x0f;
    }

    private static int authorityCount(byte[] answer) {
        return ((answer[8] & 0xff) << 8) | (answer[9] & 0xff);
    }

    private static long uint32(byte[] answer, int at) {
        return ((answer[at] & 0xffL) << 24) | ((answer[at + 1] & 0xff) << 16) | ((answer[at + 2] & 0xff) << 8)
                | (answer[at + 3] & 0xff);
    }

    private static int answerCount(byte[] answer) {
        return ((answer[6] & 0xff) << 8) | (answer[7] & 0xff);
    }
}
