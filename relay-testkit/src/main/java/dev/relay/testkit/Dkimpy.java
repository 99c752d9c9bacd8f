package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * DKIM verification by a verifier we did not write: Debian's dkimpy ({@code python3-dkim}, Ed25519 through
 * {@code python3-nacl}), run as {@code python3} with the TXT records handed in (its {@code dnsfunc}), so no DNS is
 * asked. Every DKIM-Signature of the message is verified on its own. A missing dkimpy is an
 * {@link IllegalStateException} that says how to install it ({@code ./relay test} does), never a skip.
 */
public final class Dkimpy {

    public static final String INSTALL_HINT = "install it with `apt-get install -y python3-dkim python3-nacl`"
            + " (./relay test does this)";

    /** Verifies each signature (idx) separately; prints "sig <i> <domain> <selector> pass|fail". */
    private static final String SCRIPT = """
            import sys, dkim
            msg = open(sys.argv[1], 'rb').read()
            records = {}
            for arg in sys.argv[2:]:
                name, path = arg.split('=', 1)
                records[name.lower().rstrip('.')] = open(path, 'rb').read().strip()
            def dnsfunc(name, timeout=5):
                if isinstance(name, bytes):
                    name = name.decode('ascii')
                return records.get(name.lower().rstrip('.'), b'')
            d = dkim.DKIM(msg)
            count = sum(1 for line in msg.split(b'\\r\\n\\r\\n', 1)[0].split(b'\\r\\n')
                        if line.lower().startswith(b'dkim-signature:'))
            ok = count > 0
            for i in range(count):
                try:
                    result = d.verify(idx=i, dnsfunc=dnsfunc)
                except Exception as e:
                    result = False
                    print('error', i, type(e).__name__, e)
                sig = dict(d.signature_fields) if d.signature_fields else {}
                print('sig', i, sig.get(b'd', b'?').decode(), sig.get(b's', b'?').decode(),
                      sig.get(b'a', b'?').decode(), 'pass' if result else 'fail')
                ok = ok and result
            print('signatures', count)
            sys.exit(0 if ok else 1)
            """;

    private Dkimpy() {
    }

    /**
     * The outcome of one verification.
     *
     * @param verified every signature verified (and there was at least one)
     * @param output   what dkimpy printed, one {@code sig <i> <d> <s> <a> pass|fail} line per signature
     */
    public record Result(boolean verified, String output) {
        /** The {@code sig} lines that passed, as {@code d/s/a}. */
        public List<String> passed() {
            List<String> out = new ArrayList<>();
            for (String line : output.split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length == 6 && f[0].equals("sig") && f[5].equals("pass")) {
                    out.add(f[2] + "/" + f[3] + "/" + f[4]);
                }
            }
            return out;
        }
    }

    /**
     * @param message the message as received (CRLF line ends)
     * @param txt     TXT record name ({@code <selector>._domainkey.<domain>}) → record value
     */
    public static Result verify(byte[] message, Map<String, String> txt) {
        String python = python();
        try {
            Path dir = Files.createTempDirectory("dkimpy");
            try {
                Path msg = Files.write(dir.resolve("message.eml"), message);
                Path script = Files.writeString(dir.resolve("verify.py"), SCRIPT);
                List<String> cmd = new ArrayList<>(List.of(python, script.toString(), msg.toString()));
                int n = 0;
                for (Map.Entry<String, String> record : txt.entrySet()) {
                    Path file = Files.writeString(dir.resolve("txt-" + n++), record.getValue());
                    cmd.add(record.getKey() + "=" + file);
                }
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("dkimpy did not finish within 60 s");
                }
                return new Result(p.exitValue() == 0, new String(out, StandardCharsets.UTF_8));
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The first of {@code python3} on the path and Debian's {@code /usr/bin/python3} that can import dkim and nacl. */
    public static String python() {
        StringBuilder tried = new StringBuilder();
        for (String candidate : List.of("python3", "/usr/bin/python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import dkim, nacl; print(dkim.__file__)")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
                tried.append(candidate).append(": ").append(out.lines().reduce((a, b) -> b).orElse("")).append("; ");
            } catch (IOException e) {
                tried.append(candidate).append(": not found; ");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no python3 with dkimpy and PyNaCl (" + tried + "). This test needs it: "
                + INSTALL_HINT);
    }

    /** The TXT record name of a selector: {@code <selector>._domainkey.<domain>}. */
    public static String recordName(String selector, String domain) {
        return selector + "._domainkey." + domain;
    }
}
