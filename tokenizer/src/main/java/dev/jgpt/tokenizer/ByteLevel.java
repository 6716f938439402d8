package dev.jgpt.tokenizer;

import java.util.regex.Pattern;

/**
 * GPT-2's byte-level conventions: every byte maps to one printable character (so a token is
 * a string), and text is pre-split into words with GPT-2's regular expression before BPE.
 */
public final class ByteLevel {
    private ByteLevel() {
    }

    /**
     * GPT-2's pre-tokenizer regex. {@code UNICODE_CHARACTER_CLASS} makes {@code \s} mean Unicode
     * white space, as in the Rust and Python implementations.
     */
    public static final Pattern PRE_TOKENIZER = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        // bytes_to_unicode() from GPT-2's encoder.py: printable Latin-1 bytes map to themselves,
        // the other 68 bytes to U+0100.. in byte order.
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The character that stands for byte {@code b} (0..255) in token strings. */
    public static char byteToChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The token string of a byte sequence. */
    public static String toTokenString(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /** The bytes of a token string; {@code IllegalArgumentException} if it is not byte-level. */
    public static byte[] toBytes(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                throw new IllegalArgumentException("token " + Chars.quote(token) + " is not a byte-level token: "
                        + Chars.describe(c) + " stands for no byte");
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }

    /**
     * The largest index p, 0 &lt; p &lt; length, at which {@code text} can be cut so that GPT-2's
     * pre-tokenizer gives the same pieces for the two halves as for the whole, or 0 if there is
     * none. A cut is safe at a line start between two non-blank characters ("x\n|y"): no piece
     * crosses it, and the lone "\n" before it is one piece either way.
     */
    public static int lastSafeCut(CharSequence text) {
        for (int p = text.length() - 1; p >= 2; p--) {
            if (text.charAt(p - 1) == '\n' && !isSpace(text.charAt(p - 2)) && !isSpace(text.charAt(p))) {
                return p;
            }
        }
        return 0;
    }

    /** White space in the widest sense (Java's two notions plus NEL), to stay on the safe side. */
    private static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
