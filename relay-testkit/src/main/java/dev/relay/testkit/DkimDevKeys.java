package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The development DKIM keys of {@code ./relay up}: one RSA-2048 key per local domain under
 * {@code .run/dkim/keys/<domain>/<selector>.pem} (where the policy service reads them), generated once and kept
 * across restarts, and the DNS TXT value of each in {@code .run/dkim/<selector>._domainkey.<domain>.txt}, so that
 * a receiver can verify what the local relay signed. Development only: production keys come from Secrets.
 */
final class DkimDevKeys {

    /** Relative to the repository root, where the services run. */
    static final String KEYS_DIR = ".run/dkim/keys";

    private DkimDevKeys() {
    }

    /** Generates what is missing; returns the TXT files, one per domain. */
    static List<Path> ensure(Path root, List<String> domains, String selector) {
        Path dkim = root.resolve(".run").resolve("dkim");
        Path keys = root.resolve(KEYS_DIR);
        List<Path> records = new ArrayList<>();
        for (String raw : domains) {
            String domain = raw.toLowerCase(Locale.ROOT);
            Path key = keys.resolve(domain).resolve(selector + ".pem");
            if (!Files.isRegularFile(key)) {
                DkimKeyFiles.write(keys, domain, selector, DkimKeyFiles.rsa(2048).getPrivate());
            }
            Path txt = dkim.resolve(selector + "._domainkey." + domain + ".txt");
            try {
                Files.writeString(txt, DkimKeyFiles.txt(DkimKeyFiles.rsaPublicKey(key)) + "\n",
                        StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            records.add(txt);
        }
        return records;
    }
}
