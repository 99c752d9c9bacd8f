package dev.relay.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server for tests, on 127.0.0.1 over UDP and TCP (RFC 1035 §4.2: TCP messages carry a
 * two-octet length), both on the same port, chosen by the system. It answers MX, A, AAAA, TXT and TLSA from what
 * the test configured; a null MX (RFC 7505) is {@code mx(domain, 0, ".")}. Answers under a zone given to
 * {@link #signed} carry the AD bit, as from a DNSSEC-validating resolver. Names it knows nothing about get NXDOMAIN, known
 * names without records of the asked type an empty NOERROR answer (NODATA). Per name it can also answer SERVFAIL,
 * answer late, or not answer at all, to test resolver failover and timeouts. Records carry a TTL of
 * {@value #DEFAULT_TTL} seconds unless {@link #ttl} says otherwise; negative answers carry an SOA in the authority
 * section (RFC 2308) only for names under a zone given to {@link #soa}, to test a resolver's cache.
 *
 * <pre>
 * try (DnsResponder dns = DnsResponder.start().mx("example.org", 10, "mx.example.org").a("mx.example.org", "127.0.0.1")) {
 *     ... relay.delivery.dns.servers = dns.address() ...
 * }
 * </pre>
 *
 * The wire format is written by hand (no dependency): the handful of record types a mail relay asks for is a few
 * dozen lines, and the server must also be able to send the broken or late answers a library would not produce.
 */
public final class DnsResponder implements AutoCloseable {

    public static final int TYPE_A = 1;
    public static final int TYPE_MX = 15;
    public static final int TYPE_AAAA = 28;
    public static final int TYPE_SOA = 6;
    public static final int TYPE_TXT = 16;
    public static final int TYPE_TLSA = 52;
    /** The TTL of every record of a name without {@link #ttl}. */
    public static final int DEFAULT_TTL = 60;
    private static final int RCODE_SERVFAIL = 2;
    private static final int RCODE_NXDOMAIN = 3;

    private final Map<String, List<byte[]>> records = new HashMap<>(); // "name/type" -> rdata
    private final Set<String> names = new HashSet<>();
    private final Set<String> servfail = new HashSet<>();
    private final Set<String> silent = new HashSet<>();
    private final Map<String, Duration> delays = new HashMap<>();
    private final Map<String, Long> ttls = new HashMap<>();
    private final Map<String, long[]> soas = new HashMap<>(); // zone -> {SOA record TTL, SOA MINIMUM}
    private final Set<String> signedZones = new HashSet<>(); // answers under these zones carry the AD bit
    private final Map<String, byte[]> rebinds = new HashMap<>(); // name -> the A rdata of every later answer
    private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final ScheduledExecutorService later;
    private final ExecutorService connections;
    private volatile boolean closed;
    /** UDP answers longer than this go out truncated (TC bit, no records): the client asks again over TCP. */
    private volatile int udpLimit = Integer.MAX_VALUE;

    private DnsResponder(DatagramSocket udp, ServerSocket tcp) {
        this.udp = udp;
        this.tcp = tcp;
        this.later = Executors.newSingleThreadScheduledExecutor(daemon("dns-responder-late-" + udp.getLocalPort()));
        this.connections = Executors.newCachedThreadPool(daemon("dns-responder-tcp-" + udp.getLocalPort()));
        Thread u = daemon("dns-responder-udp-" + udp.getLocalPort()).newThread(this::serveUdp);
        Thread t = daemon("dns-responder-accept-" + udp.getLocalPort()).newThread(this::acceptTcp);
        u.start();
        t.start();
    }

    /** Binds UDP and TCP on one free loopback port. */
    public static DnsResponder start() {
        IOException last = null;
        for (int i = 0; i < 20; i++) {
            DatagramSocket udp = null;
            try {
                udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ServerSocket tcp = new ServerSocket();
                try {
                    tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), udp.getLocalPort()), 50);
                } catch (IOException e) {
                    tcp.close();
                    throw e;
                }
                return new DnsResponder(udp, tcp);
            } catch (IOException e) { // the TCP port of that number was taken: try another
                last = e;
                if (udp != null) {
                    udp.close();
                }
            }
        }
        throw new UncheckedIOException("no free port for UDP and TCP", last);
    }

    public int port() {
        return udp.getLocalPort();
    }

    /** {@code 127.0.0.1:port}, as {@code relay.delivery.dns.servers} takes it. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    public synchronized DnsResponder mx(String domain, int preference, String exchange) {
        ByteArrayOutputStream rdata = new ByteArrayOutputStream();
        rdata.write(preference >> 8);
        rdata.write(preference);
        writeName(rdata, exchange);
        return add(domain, TYPE_MX, rdata.toByteArray());
    }

    /**
     * A TXT record (RFC 1035 §3.3.14) made of these character-strings; a string longer than 255 octets is split
     * into several, as a zone file would (RFC 7208 §3.3 reads them joined).
     */
    public synchronized DnsResponder txt(String name, String... strings) {
        ByteArrayOutputStream rdata = new ByteArrayOutputStream();
        for (String string : strings) {
            byte[] bytes = string.getBytes(StandardCharsets.UTF_8);
            int pos = 0;
            do {
                int len = Math.min(255, bytes.length - pos);
                rdata.write(len);
                rdata.write(bytes, pos, len);
                pos += len;
            } while (pos < bytes.length);
        }
        return add(name, TYPE_TXT, rdata.toByteArray());
    }

    /**
     * A TLSA record (RFC 6698 §2.1) at {@code name} (e.g. {@code _25._tcp.mx.example.org}): certificate usage,
     * selector, matching type and the association data (a digest or a whole certificate/key).
     */
    public synchronized DnsResponder tlsa(String name, int usage, int selector, int matchingType, byte[] data) {
        ByteArrayOutputStream rdata = new ByteArrayOutputStream();
        rdata.write(usage);
        rdata.write(selector);
        rdata.write(matchingType);
        rdata.write(data, 0, data.length);
        return add(name, TYPE_TLSA, rdata.toByteArray());
    }

    /**
     * Answers about {@code zone} and every name under it carry the AD bit (RFC 4035 §3.2.3), as a validating
     * resolver sets it for data it proved secure with DNSSEC. Answers elsewhere never do ("insecure").
     */
    public synchronized DnsResponder signed(String zone) {
        signedZones.add(key(zone));
        return this;
    }

    /** RFC 7505: the single MX record {@code 0 .}, "this domain accepts no mail". */
    public DnsResponder nullMx(String domain) {
        return mx(domain, 0, ".");
    }

    public synchronized DnsResponder a(String host, String ipv4) {
        byte[] address = literal(ipv4);
        if (address.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + ipv4);
        }
        return add(host, TYPE_A, address);
    }

    public synchronized DnsResponder aaaa(String host, String ipv6) {
        byte[] address = literal(ipv6);
        if (address.length != 16) {
            throw new IllegalArgumentException("not an IPv6 address: " + ipv6);
        }
        return add(host, TYPE_AAAA, address);
    }

    /**
     * DNS rebinding: the first A question about {@code host} is answered with {@code first}, every later one with
     * {@code then} (TTL 0). A client that checks the first answer and then resolves the name again to connect is
     * sent somewhere it never checked.
     */
    public synchronized DnsResponder rebind(String host, String first, String then) {
        byte[] later = literal(then);
        if (later.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + then);
        }
        a(host, first);
        ttl(host, 0);
        rebinds.put(key(host), later);
        return this;
    }

    /** Forgets the records of {@code type} at {@code name}, e.g. before publishing a changed TXT record. */
    public synchronized DnsResponder remove(String name, int type) {
        records.remove(key(name) + "/" + type);
        return this;
    }

    /** The name exists but has no records: every type gets an empty NOERROR answer. */
    public synchronized DnsResponder exists(String name) {
        names.add(key(name));
        return this;
    }

    /** Every question about this name gets SERVFAIL. */
    public synchronized DnsResponder servfail(String name) {
        servfail.add(key(name));
        return this;
    }

    /** Questions about this name are answered only after {@code delay}. */
    public synchronized DnsResponder delay(String name, Duration delay) {
        delays.put(key(name), delay);
        return this;
    }

    /** Every record of this name is answered with this TTL (seconds, 0 to 2^31-1) instead of {@value #DEFAULT_TTL}. */
    public synchronized DnsResponder ttl(String name, long seconds) {
        if (seconds < 0 || seconds > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("TTL out of range: " + seconds);
        }
        ttls.put(key(name), seconds);
        return this;
    }

    /**
     * NXDOMAIN and NODATA answers for {@code zone} and the names under it carry the zone's SOA in the authority
     * section, with this record TTL and MINIMUM field: a resolver caches them for the smaller of the two (RFC 2308
     * §5).
     */
    public synchronized DnsResponder soa(String zone, long ttl, long minimum) {
        soas.put(key(zone), new long[]{ttl, minimum});
        return this;
    }

    /**
     * A UDP answer longer than {@code octets} is sent as a truncated answer instead (header and question, TC bit
     * set, no records), as a server does when the answer does not fit the client's UDP payload size (RFC 1035
     * §4.2.1, RFC 6891): the client asks again over TCP and gets it whole. TCP answers stay below 65536 octets.
     */
    public DnsResponder truncateUdpAbove(int octets) {
        this.udpLimit = octets;
        return this;
    }

    /** Questions about this name are never answered (the resolver times out). */
    public synchronized DnsResponder silent(String name) {
        silent.add(key(name));
        return this;
    }

    /** How many questions about this name arrived (any type, UDP and TCP). */
    public int queries(String name) {
        AtomicInteger n = queries.get(key(name));
        return n == null ? 0 : n.get();
    }

    /** Every question as {@code name/TYPE}, in arrival order. */
    public List<String> log() {
        return List.copyOf(log);
    }

    @Override
    public void close() {
        closed = true;
        udp.close();
        try {
            tcp.close();
        } catch (IOException e) {
            // closing anyway
        }
        later.shutdownNow();
        connections.shutdownNow();
    }

    private DnsResponder add(String name, int type, byte[] rdata) {
        names.add(key(name));
        records.computeIfAbsent(key(name) + "/" + type, k -> new ArrayList<>()).add(rdata);
        return this;
    }

    private void serveUdp() {
        byte[] buffer = new byte[4096];
        while (!closed) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                byte[] query = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
                SocketAddress client = packet.getSocketAddress();
                respond(query, answer -> {
                    byte[] sent = answer.length > udpLimit ? truncated(answer) : answer;
                    udp.send(new DatagramPacket(sent, sent.length, client));
                });
            } catch (IOException e) {
                // closed, or one bad packet: go on until closed
            }
        }
    }

    private void acceptTcp() {
        while (!closed) {
            try {
                Socket socket = tcp.accept();
                connections.execute(() -> serveTcp(socket));
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void serveTcp(Socket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (!closed) {
                int length = in.readUnsignedShort();
                byte[] query = in.readNBytes(length);
                if (query.length < length) {
                    return;
                }
                respond(query, answer -> {
                    synchronized (out) {
                        out.write(answer.length >> 8);
                        out.write(answer.length & 0xff);
                        out.write(answer);
                        out.flush();
                    }
                });
            }
        } catch (IOException e) {
            // the client closed the connection
        }
    }

    private interface Sender {
        void send(byte[] answer) throws IOException;
    }

    private void respond(byte[] query, Sender sender) throws IOException {
        Question q = Question.parse(query);
        if (q == null) {
            return; // not a DNS query: ignore it, as a real server would
        }
        queries.computeIfAbsent(q.name(), n -> new AtomicInteger()).incrementAndGet();
        log.add(q.name() + "/" + typeName(q.type()));
        Duration delay;
        byte[] answer;
        synchronized (this) {
            if (silent.contains(q.name())) {
                return;
            }
            delay = delays.get(q.name());
            answer = answer(query, q);
            byte[] later = q.type() == TYPE_A ? rebinds.remove(q.name()) : null;
            if (later != null) {
                records.put(q.name() + "/" + TYPE_A, new ArrayList<>(List.of(later)));
            }
        }
        if (delay == null || delay.isZero()) {
            sender.send(answer);
        } else {
            later.schedule(() -> {
                try {
                    sender.send(answer);
                } catch (IOException e) {
                    // the client went away
                }
            }, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The parts of a query we need: its name, type, and where the question section ends. */
    private record Question(String name, int type, int end) {
        static Question parse(byte[] q) {
            if (q.length < 17 || (q[2] & 0x80) != 0) {
                return null; // too short, or a response
            }
            return parseAnswerQuestion(q);
        }

        /** The question section of a query or of our own answer (one question, uncompressed). */
        static Question parseAnswerQuestion(byte[] q) {
            if (q.length < 17 || ((q[4] << 8) | (q[5] & 0xff)) != 1) {
                return null; // too short, or not exactly one question
            }
            int pos = 12;
            StringBuilder name = new StringBuilder();
            while (pos < q.length && q[pos] != 0) {
                int len = q[pos] & 0xff;
                if (len > 63 || pos + 1 + len >= q.length) {
                    return null; // compression pointers or overruns have no place in a question
                }
                if (name.length() > 0) {
                    name.append('.');
                }
                name.append(new String(q, pos + 1, len, StandardCharsets.US_ASCII));
                pos += len + 1;
            }
            if (pos + 5 > q.length) {
                return null;
            }
            pos++;
            int type = ((q[pos] & 0xff) << 8) | (q[pos + 1] & 0xff);
            return new Question(key(name.toString()), type, pos + 4);
        }
    }

    private byte[] answer(byte[] q, Question question) {
        int rcode = servfail.contains(question.name()) ? RCODE_SERVFAIL
                : names.contains(question.name()) ? 0 : RCODE_NXDOMAIN;
        List<byte[]> rrs = rcode == 0 ? records.getOrDefault(question.name() + "/" + question.type(), List.of())
                : List.of();
        String zone = rcode != RCODE_SERVFAIL && rrs.isEmpty() ? zoneOf(question.name()) : null;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.write(0x84 | (q[2] & 0x01)); // QR, AA, RD copied
        boolean authenticated = rcode != RCODE_SERVFAIL && isSigned(question.name());
        out.write(0x80 | (authenticated ? 0x20 : 0) | rcode); // RA, AD, RCODE
        writeShort(out, 1);
        writeShort(out, rrs.size());
        writeShort(out, zone == null ? 0 : 1);
        writeShort(out, 0);
        out.write(q, 12, question.end() - 12);
        long ttl = ttls.getOrDefault(question.name(), (long) DEFAULT_TTL);
        for (byte[] rdata : rrs) {
            writeShort(out, 0xC00C); // pointer to the question name
            writeShort(out, question.type());
            writeShort(out, 1); // IN
            writeInt(out, ttl);
            writeShort(out, rdata.length);
            out.write(rdata, 0, rdata.length);
        }
        if (zone != null) {
            long[] soa = soas.get(zone);
            ByteArrayOutputStream rdata = new ByteArrayOutputStream();
            writeName(rdata, "ns." + zone);
            writeName(rdata, "hostmaster." + zone);
            writeInt(rdata, 1); // serial
            writeInt(rdata, 3600); // refresh
            writeInt(rdata, 600); // retry
            writeInt(rdata, 86400); // expire
            writeInt(rdata, soa[1]); // minimum: the negative-caching TTL
            writeName(out, zone);
            writeShort(out, TYPE_SOA);
            writeShort(out, 1); // IN
            writeInt(out, soa[0]);
            writeShort(out, rdata.size());
            out.write(rdata.toByteArray(), 0, rdata.size());
        }
        return out.toByteArray();
    }

    /** The header and question of {@code answer}, with TC set and no records. */
    private static byte[] truncated(byte[] answer) {
        Question q = Question.parseAnswerQuestion(answer);
        byte[] out = java.util.Arrays.copyOf(answer, q == null ? 12 : q.end());
        out[2] |= 0x02; // TC
        for (int i = 6; i < 12; i++) {
            out[i] = 0; // ANCOUNT, NSCOUNT, ARCOUNT
        }
        return out;
    }

    private boolean isSigned(String name) {
        for (String n = name; ; n = n.substring(n.indexOf('.') + 1)) {
            if (signedZones.contains(n)) {
                return true;
            }
            if (n.indexOf('.') < 0) {
                return false;
            }
        }
    }

    /** The closest enclosing zone given to {@link #soa}, or null. */
    private String zoneOf(String name) {
        for (String n = name; ; n = n.substring(n.indexOf('.') + 1)) {
            if (soas.containsKey(n)) {
                return n;
            }
            if (n.indexOf('.') < 0) {
                return null;
            }
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case TYPE_A -> "A";
            case TYPE_MX -> "MX";
            case TYPE_AAAA -> "AAAA";
            case TYPE_TXT -> "TXT";
            case TYPE_TLSA -> "TLSA";
            default -> "TYPE" + type;
        };
    }

    private static byte[] literal(String address) {
        try {
            // only literals: getByName does no lookup for them
            if (!address.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("not an IP literal: " + address);
            }
            return InetAddress.getByName(address).getAddress();
        } catch (IOException e) {
            throw new IllegalArgumentException("not an IP literal: " + address, e);
        }
    }

    private static void writeName(ByteArrayOutputStream out, String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!n.isEmpty()) {
            for (String label : n.split("\\.")) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.write(bytes.length);
                out.write(bytes, 0, bytes.length);
            }
        }
        out.write(0);
    }

    private static void writeShort(ByteArrayOutputStream out, int value) {
        out.write((value >> 8) & 0xff);
        out.write(value & 0xff);
    }

    private static void writeInt(ByteArrayOutputStream out, long value) {
        writeShort(out, (int) (value >> 16));
        writeShort(out, (int) value);
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
