package dev.relay.ingress.smtp.session;

import java.security.SecureRandom;

/**
 * Queue ids: 10 characters of millisecond time and 10 random characters in Crockford base32, so that ids sort
 * by acceptance time and never collide across ingress replicas (50 bits of randomness per millisecond).
 */
public final class QueueIds {

    private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private QueueIds() {
    }

    public static String next() {
        char[] id = new char[20];
        long time = System.currentTimeMillis();
        for (int i = 9; i >= 0; i--) {
            id[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        long random = RANDOM.nextLong(); // one draw from the generator per id: 50 of its 64 bits are used
        for (int i = 10; i < 20; i++) {
            id[i] = ALPHABET[(int) (random & 31)];
            random >>>= 5;
        }
        return new String(id);
    }
}
