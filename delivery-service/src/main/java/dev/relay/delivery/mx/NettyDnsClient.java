package dev.relay.delivery.mx;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddresses;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;
import io.vertx.core.impl.VertxInternal;
import dev.relay.delivery.tls.TlsaRecord;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Asks one DNS server one question and keeps what Vert.x's {@code DnsClient} drops: the TTL of the answer records
 * and the SOA of a negative answer (RFC 2308), which a TTL-respecting cache needs (ADR 0006). Built on Netty's
 * {@link DnsNameResolver}, used only for its single-server {@code query}: its own caches are off, and it never
 * picks a server, searches domains or follows CNAMEs here. A truncated UDP answer is asked again over TCP.
 * <p>
 * The result is definite (a {@link DnsAnswer}: records, NODATA or NXDOMAIN) or a failure: {@link DnsException} for
 * any other response code (SERVFAIL, REFUSED ...), Netty's timeout exception, or a decoding error. Futures complete
 * on the Vert.x context of the caller, as the {@code DnsClient}'s did.
 * <p>
 * With {@code dnssec} (ADR 0012) every query carries an EDNS0 OPT record with the DO bit (RFC 3225; RFC 6840 §5.7:
 * a validating resolver sets AD in its answer only when the query has DO or AD), written here instead of Netty's
 * own OPT record, which cannot carry DO; the answer's AD bit (Netty: bit 1 of the header's Z field, which holds
 * Z, AD and CD) is kept in {@link DnsAnswer#authenticated()}. Without it the AD bit is never read.
 */
final class NettyDnsClient {

    private static final int RCODE_NOERROR = 0;
    private static final int RCODE_NXDOMAIN = 3;
    /** Netty's Z field is the three header bits Z, AD, CD: AD is its middle bit. */
    private static final int Z_AD = 0x2;
    /** EDNS0 OPT: UDP payload size we accept (Netty's receive buffer), and the DO bit in the TTL field. */
    private static final int EDNS_PAYLOAD = 4096;
    private static final long EDNS_DO = 0x8000L;

    private final Vertx vertx;
    private final EventLoop eventLoop;
    private final DnsNameResolver resolver;
    private final boolean dnssec;

    NettyDnsClient(Vertx vertx, List<InetSocketAddress> servers, Duration queryTimeout) {
        this(vertx, servers, queryTimeout, false);
    }

    /** @param dnssec ask for DNSSEC (DO bit) and keep the AD bit of answers */
    NettyDnsClient(Vertx vertx, List<InetSocketAddress> servers, Duration queryTimeout, boolean dnssec) {
        this.vertx = vertx;
        this.dnssec = dnssec;
        VertxInternal internal = (VertxInternal) vertx; // for its transport: NIO or native, matching the event loops
        this.eventLoop = vertx.nettyEventLoopGroup().next();
        this.resolver = new DnsNameResolverBuilder(eventLoop)
                .datagramChannelFactory(() -> internal.transport().datagramChannel())
                .socketChannelFactory(() -> (SocketChannel) internal.transport().channelFactory(false).newChannel())
                .nameServerProvider(name -> DnsServerAddresses.sequential(servers).stream()) // unused by query
                .queryTimeoutMillis(queryTimeout.toMillis())
                .recursionDesired(true)
                .maxPayloadSize(EDNS_PAYLOAD)
                .optResourceEnabled(!dnssec) // with dnssec our own OPT record, with DO, goes along (query below)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .build();
    }

    /** The addresses of A or AAAA records, as {@link InetAddress#getHostAddress()} writes them. */
    static String address(DnsRecord record) {
        ByteBuf data = content(record);
        byte[] address = new byte[data.readableBytes()];
        data.getBytes(data.readerIndex(), address);
        if (address.length != 4 && address.length != 16) {
            throw new DecoderException("address record of " + address.length + " octets");
        }
        try {
            return InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException e) {
            throw new DecoderException(e);
        }
    }

    /** A TLSA record (RFC 6698 §2.1); its data is copied out of the message. */
    static TlsaRecord tlsa(DnsRecord record) {
        ByteBuf data = content(record);
        byte[] rdata = new byte[data.readableBytes()];
        data.getBytes(data.readerIndex(), rdata);
        try {
            return TlsaRecord.parse(rdata);
        } catch (IllegalArgumentException e) {
            throw new DecoderException(e.getMessage());
        }
    }

    /**
     * The text of a TXT record (RFC 1035 §3.3.14): its character-strings joined, one char per octet (ISO-8859-1:
     * what is not ASCII stays visible as such and fails the callers' ASCII grammars). Bounded by the record, which
     * the DNS message bounds (64 KiB over TCP).
     */
    static String txt(DnsRecord record) {
        ByteBuf data = content(record);
        StringBuilder text = new StringBuilder(data.readableBytes());
        int pos = data.readerIndex();
        int end = data.writerIndex();
        while (pos < end) {
            int length = data.getUnsignedByte(pos++);
            if (pos + length > end) {
                throw new DecoderException("TXT character-string runs past its record");
            }
            text.append(data.toString(pos, length, StandardCharsets.ISO_8859_1));
            pos += length;
        }
        return text.toString();
    }

    static Mx mx(DnsRecord record) {
        ByteBuf data = content(record).duplicate(); // the whole message: the exchange may point into it
        int preference = data.readUnsignedShort();
        return Mx.of(preference, DefaultDnsRecordDecoder.decodeName(data));
    }

    /** Asks {@code server} for the {@code type} records of {@code name}, decoded by {@code decoder}. */
    <T> Future<DnsAnswer<T>> query(InetSocketAddress server, DnsRecordType type, String name,
                                   Function<DnsRecord, T> decoder) {
        return query(server, type, name, decoder, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /**
     * As {@link #query(InetSocketAddress, DnsRecordType, String, Function)}, bounded: an answer with more than
     * {@code maxRecords} records of the type, or more than {@code maxOctets} octets of their data together, is a
     * decoding failure (nothing of it is kept, nothing cached). The message itself is bounded by DNS: 4096 octets
     * over UDP (our receive buffer), 65535 over TCP.
     */
    <T> Future<DnsAnswer<T>> query(InetSocketAddress server, DnsRecordType type, String name,
                                   Function<DnsRecord, T> decoder, int maxRecords, int maxOctets) {
        Context context = vertx.getOrCreateContext();
        Promise<DnsAnswer<T>> promise = Promise.promise();
        DefaultDnsQuestion question = new DefaultDnsQuestion(name.endsWith(".") ? name : name + ".", type);
        List<DnsRecord> additionals = dnssec ? List.of(new DefaultDnsRawRecord("", DnsRecordType.OPT, EDNS_PAYLOAD,
                EDNS_DO, Unpooled.EMPTY_BUFFER)) : List.of();
        eventLoop.execute(() -> resolver.query(server, question, additionals).addListener(
                (io.netty.util.concurrent.Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> done) -> {
                    DnsAnswer<T> answer = null;
                    Throwable failure = null;
                    if (done.isSuccess()) {
                        AddressedEnvelope<DnsResponse, InetSocketAddress> envelope = done.getNow();
                        try {
                            answer = read(envelope.content(), type, decoder, maxRecords, maxOctets);
                            if (dnssec) {
                                answer = answer.authenticated((envelope.content().z() & Z_AD) != 0);
                            }
                        } catch (DnsException | RuntimeException e) {
                            failure = e;
                        } finally {
                            envelope.release();
                        }
                    } else {
                        failure = done.cause();
                    }
                    DnsAnswer<T> result = answer;
                    Throwable cause = failure;
                    context.runOnContext(v -> {
                        if (cause == null) {
                            promise.complete(result);
                        } else {
                            promise.fail(cause);
                        }
                    });
                }));
        return promise.future();
    }

    Future<Void> close() {
        Promise<Void> closed = Promise.promise();
        eventLoop.execute(() -> {
            resolver.close();
            closed.complete();
        });
        return closed.future();
    }

    private static <T> DnsAnswer<T> read(DnsResponse response, DnsRecordType type, Function<DnsRecord, T> decoder,
                                         int maxRecords, int maxOctets) throws DnsException {
        int rcode = response.code().intValue();
        if (rcode == RCODE_NXDOMAIN) {
            return DnsAnswer.nxDomain(negativeTtl(response));
        }
        if (rcode != RCODE_NOERROR) {
            DnsResponseCode code = DnsResponseCode.valueOf(rcode);
            if (code == null) {
                throw new VertxException("DNS response code " + rcode, true);
            }
            throw new DnsException(code);
        }
        List<T> records = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        long octets = 0;
        for (int i = 0; i < response.count(DnsSection.ANSWER); i++) {
            DnsRecord record = response.recordAt(DnsSection.ANSWER, i);
            ttl = Math.min(ttl, record.timeToLive()); // CNAMEs on the way count too
            if (record.type().equals(type)) {
                octets += record instanceof DnsRawRecord raw ? raw.content().readableBytes() : 0;
                if (records.size() >= maxRecords || octets > maxOctets) {
                    throw new DecoderException("answer for " + type.name() + " over its bound (" + maxRecords
                            + " records, " + maxOctets + " octets)");
                }
                records.add(decoder.apply(record));
            }
        }
        return records.isEmpty() ? DnsAnswer.noData(negativeTtl(response)) : DnsAnswer.found(records, ttl);
    }

    /** RFC 2308 §5: the smaller of the SOA record's TTL and its MINIMUM field; unknown without an SOA. */
    private static long negativeTtl(DnsResponse response) {
        for (int i = 0; i < response.count(DnsSection.AUTHORITY); i++) {
            DnsRecord record = response.recordAt(DnsSection.AUTHORITY, i);
            if (record.type().equals(DnsRecordType.SOA) && record instanceof DnsRawRecord) {
                ByteBuf data = content(record).duplicate();
                DefaultDnsRecordDecoder.decodeName(data); // MNAME
                DefaultDnsRecordDecoder.decodeName(data); // RNAME
                data.skipBytes(16); // SERIAL, REFRESH, RETRY, EXPIRE
                return Math.min(record.timeToLive(), data.readUnsignedInt());
            }
        }
        return DnsAnswer.UNKNOWN_TTL;
    }

    private static ByteBuf content(DnsRecord record) {
        if (!(record instanceof DnsRawRecord raw)) {
            throw new DecoderException("unexpected record " + record);
        }
        return raw.content();
    }
}
