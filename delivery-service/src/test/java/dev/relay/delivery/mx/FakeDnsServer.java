package dev.relay.delivery.mx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A tiny authoritative DNS server over UDP on 127.0.0.1, port 0, for MX and A/AAAA (RFC 1035 §4). Names it
 * knows nothing about get NXDOMAIN; known names without records of the asked type get an empty NOERROR answer.
 */
final class FakeDnsServer implements AutoCloseable {

    private static final int TYPE_A = 1;
    private static final int TYPE_MX = 15;
    private static final int TYPE_AAAA = 28;

    private final Map<String, List<byte[]>> records = new HashMap<>(); // "name/type" -> rdata
    private final Set<String> names = new HashSet<>();
    private final DatagramSocket socket;
    private final Thread thread;

    FakeDnsServer() throws SocketException {
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        thread = new Thread(this::serve, "fake-dns-" + socket.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    synchronized FakeDnsServer mx(String domain, int preference, String exchange) {
        ByteArrayOutputStream rdata = new ByteArrayOutputStream();
        rdata.write(preference >> 8);
        rdata.write(preference);
        writeName(rdata, exchange);
        return add(domain, TYPE_MX, rdata.toByteArray());
    }

    synchronized FakeDnsServer a(String host, String address) throws IOException {
        return add(host, TYPE_A, InetAddress.getByName(address).getAddress());
    }

    synchronized FakeDnsServer aaaa(String host, String address) throws IOException {
        return add(host, TYPE_AAAA, InetAddress.getByName(address).getAddress());
    }

    /** The name exists but has no records (an empty NOERROR answer for every type). */
    synchronized FakeDnsServer exists(String name) {
        names.add(key(name));
        return this;
    }

    @Override
    public void close() {
        socket.close();
    }

    private FakeDnsServer add(String name, int type, byte[] rdata) {
        names.add(key(name));
        records.computeIfAbsent(key(name) + "/" + type, k -> new ArrayList<>()).add(rdata);
        return this;
    }

    private void serve() {
        byte[] buffer = new byte[1500];
        while (!socket.isClosed()) {
            try {
                DatagramPacket query = new DatagramPacket(buffer, buffer.length);
                socket.receive(query);
                byte[] answer = answer(query.getData(), query.getLength());
                socket.send(new DatagramPacket(answer, answer.length, query.getSocketAddress()));
            } catch (IOException e) {
                // closed
            }
        }
    }

    private synchronized byte[] answer(byte[] q, int length) {
        int pos = 12;
        StringBuilder name = new StringBuilder();
        while (q[pos] != 0) {
            int len = q[pos] & 0xff;
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(q, pos + 1, len, StandardCharsets.US_ASCII));
            pos += len + 1;
        }
        pos++;
        int type = ((q[pos] & 0xff) << 8) | (q[pos + 1] & 0xff);
        int questionEnd = pos + 4;
        String key = key(name.toString());
        List<byte[]> rrs = records.getOrDefault(key + "/" + type, List.of());
        boolean nxdomain = !names.contains(key);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.write(0x84 | (q[2] & 0x01)); // QR, AA, RD copied
        out.write(0x80 | (nxdomain ? 3 : 0)); // RA, RCODE
        writeShort(out, 1);
        writeShort(out, rrs.size());
        writeShort(out, 0);
        writeShort(out, 0);
        out.write(q, 12, questionEnd - 12);
        for (byte[] rdata : rrs) {
            writeShort(out, 0xC00C); // pointer to the question name
            writeShort(out, type);
            writeShort(out, 1); // IN
            writeShort(out, 0);
            writeShort(out, 60); // TTL
            writeShort(out, rdata.length);
            out.write(rdata, 0, rdata.length);
        }
        return out.toByteArray();
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

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
