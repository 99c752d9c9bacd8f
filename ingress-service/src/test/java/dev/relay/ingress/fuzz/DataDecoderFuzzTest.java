package dev.relay.ingress.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.MessageBuffer;
import dev.relay.ingress.smtp.protocol.MessageBuffer.Outcome;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link DataDecoder} with its {@link MessageBuffer}: arbitrary DATA bytes, arbitrary limits, and three ways
 * of cutting the same bytes into socket reads. Without {@code JAZZER_FUZZ} this runs as a regression test over the
 * seeds and kept findings in {@code DataDecoderFuzzTestInputs/decodeAnyData/}; see bench/README.md ("Fuzzing").
 *
 * <p>Input layout: byte 0 chooses the read sizes, byte 1 the line limit, byte 2 the size limit, byte 3 the memory
 * budget; the rest is what the client sends after {@code 354}. The decoder is compared with a reference written
 * here from RFC 5321 (§4.1.1.4, §4.5.2) in the plainest way:
 * <ul>
 *   <li>the data ends at the first {@code .CRLF} that starts a line, a line starting only after CRLF (never after a
 *       bare LF or CR: SMTP smuggling), and nowhere else; the bytes after it belong to the next command;</li>
 *   <li>a dot that starts a line is removed; nothing else is changed, added or dropped;</li>
 *   <li>the outcome is a refusal whenever the decoded bytes hold a CR not followed by LF or an LF not preceded by CR,
 *       exceed the size or line limit or the memory budget; only an {@code OK} message is kept, byte for byte;</li>
 *   <li>how the bytes are cut into reads changes nothing.</li>
 * </ul>
 */
class DataDecoderFuzzTest {

    private static final byte[] PREFIX = "Received: from fuzz\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int RESERVE_STEP = 64 * 1024;

    @FuzzTest(maxDuration = "30s")
    void decodeAnyData(byte[] input) {
        if (input.length < 4) {
            return;
        }
        byte[] data = Arrays.copyOfRange(input, 4, input.length);
        int maxLine = 3 + (input[1] & 0xFF) * 4;                                    // 3 .. 1023 octets incl. CRLF
        long maxSize = (input[2] & 0xFF) == 0xFF ? Long.MAX_VALUE : PREFIX.length + (input[2] & 0xFF) * 16L;
        long budget = switch (input[3] & 3) {
            case 0 -> 0;
            case 1 -> RESERVE_STEP;
            default -> Long.MAX_VALUE;
        };

        Expected expected = Expected.of(data, maxLine, maxSize, budget);
        for (int[] reads : new int[][] {{data.length}, {1}, readSizes(input[0])}) {
            assertDecodes(data, reads, maxLine, maxSize, budget, expected);
        }
    }

    private static void assertDecodes(byte[] data, int[] reads, int maxLine, long maxSize, long budgetLimit,
                                      Expected expected) {
        MemoryBudget budget = new MemoryBudget(budgetLimit);
        DataDecoder decoder = new DataDecoder(new MessageBuffer(maxSize, maxLine, budget, PREFIX));
        int end = -1;
        int from = 0;
        for (int r = 0; from < data.length; r++) {
            int to = Math.min(data.length, from + Math.max(1, reads[r % reads.length]));
            int result = decoder.feed(data, from, to);
            if (end >= 0) {
                assertThat(result).as("a read after the end consumes nothing").isEqualTo(from);
            } else if (result >= 0) {
                assertThat(result).isBetween(from + 1, to);
                end = result;
            }
            from = to;
        }

        assertThat(end).as("end of data (index after CRLF.CRLF)").isEqualTo(expected.end);
        assertThat(decoder.done()).isEqualTo(expected.end >= 0);
        MessageBuffer buffer = decoder.buffer();
        assertThat(buffer.size()).isEqualTo(PREFIX.length + expected.decoded.length);
        assertThat(buffer.outcome()).isEqualTo(expected.outcome);
        if (expected.outcome == Outcome.OK) {
            assertThat(buffer.bytes()).isEqualTo(concat(PREFIX, expected.decoded));
        }
        buffer.release();
        assertThat(budget.used()).isZero();
    }

    /** Read sizes 1..16 from a small generator seeded by one input byte; 0 means one read of everything. */
    private static int[] readSizes(byte seed) {
        int s = seed & 0xFF;
        if (s == 0) {
            return new int[] {Integer.MAX_VALUE};
        }
        int[] sizes = new int[7];
        for (int i = 0; i < sizes.length; i++) {
            s = (s * 73 + 41) & 0xFF;
            sizes[i] = 1 + (s & 15);
        }
        return sizes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** What RFC 5321 says the decoder must produce, computed without the decoder's state machine. */
    private record Expected(int end, byte[] decoded, Outcome outcome) {

        static Expected of(byte[] data, int maxLine, long maxSize, long budget) {
            int end = -1;
            for (int i = 0; i + 3 <= data.length; i++) {
                if (lineStart(data, i) && data[i] == '.' && data[i + 1] == '\r' && data[i + 2] == '\n') {
                    end = i + 3;
                    break;
                }
            }
            int contentEnd = end < 0 ? data.length : end - 3;
            if (end < 0 && data.length >= 2 && data[data.length - 1] == '\r' && data[data.length - 2] == '.'
                    && lineStart(data, data.length - 2)) {
                contentEnd--; // ".CR" at a line start: undecided until the next byte (end of data, or a bare CR)
            }
            ByteArrayOutputStream decoded = new ByteArrayOutputStream();
            for (int i = 0; i < contentEnd; i++) {
                if (!(data[i] == '.' && lineStart(data, i))) {
                    decoded.write(data[i]);
                }
            }
            byte[] bytes = decoded.toByteArray();
            return new Expected(end, bytes, outcome(bytes, maxLine, maxSize, budget));
        }

        private static boolean lineStart(byte[] data, int i) {
            return i == 0 || (i >= 2 && data[i - 2] == '\r' && data[i - 1] == '\n');
        }

        private static Outcome outcome(byte[] decoded, int maxLine, long maxSize, long budget) {
            byte[] all = concat(PREFIX, decoded);
            for (int i = 0; i < all.length; i++) {
                boolean bareCr = all[i] == '\r' && (i + 1 == all.length || all[i + 1] != '\n');
                boolean bareLf = all[i] == '\n' && (i == 0 || all[i - 1] != '\r');
                if (bareCr || bareLf) {
                    return Outcome.BARE_LINE_ENDING;
                }
            }
            if (all.length > maxSize) {
                return Outcome.TOO_BIG;
            }
            // line length counts the octets of a line without its CRLF; the limit includes the CRLF
            int line = 0;
            for (byte b : all) {
                if (b == '\n') {
                    line = 0;
                } else if (b != '\r' && ++line > maxLine - 2) {
                    return Outcome.LINE_TOO_LONG;
                }
            }
            long reservations = (all.length + RESERVE_STEP - 1L) / RESERVE_STEP;
            return reservations * RESERVE_STEP > budget ? Outcome.NO_MEMORY : Outcome.OK;
        }
    }
}
