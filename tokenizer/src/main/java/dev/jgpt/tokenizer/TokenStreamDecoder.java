package dev.jgpt.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes a stream of tokens one at a time, as generation produces them, returning only text
 * that is complete. With byte-level BPE one character can span several tokens (an emoji is four
 * bytes, often two or more tokens); decoding each token alone would print U+FFFD halves.
 *
 * <ul>
 *   <li>Byte-level tokenizers (GPT-2's, {@link BpeTrainer}'s): each token's bytes go through an
 *       incremental UTF-8 decoder that holds back only the bytes of an incomplete character
 *       (at most 3). Invalid bytes become U+FFFD at once, as the full decode would.</li>
 *   <li>Char-level: every token is a whole character.</li>
 *   <li>Other Hugging Face tokenizers (as in text-generation-inference): decode the pending
 *       tokens with one token of context, with and without the newest, and emit the difference
 *       once it does not end in U+FFFD (or once 8 tokens are pending, so it never stalls).</li>
 * </ul>
 * The concatenation of all returned strings and {@link #finish()} equals
 * {@code tokenizer.decode(allIds)}.
 *
 * <p>Not thread-safe: one decoder per generated sequence.
 */
public final class TokenStreamDecoder {
    private static final int MAX_PENDING_TOKENS = 8;

    private final Tokenizer tokenizer;
    private final HfTokenizer byteLevel;        // non-null: decode through bytes
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer bytes = ByteBuffer.allocate(64);

    // Generic path: tokens since the context window start.
    private int[] ids = new int[16];
    private int size;
    private int prefixOffset;   // start of the context window
    private int readOffset;     // tokens before this have been emitted

    public TokenStreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.byteLevel = tokenizer instanceof HfTokenizer hf && hf.tokenBytes(0) != null ? hf : null;
    }

    /**
     * Adds one token and returns the text that became complete ("" while a character is still
     * incomplete).
     *
     * @throws IllegalArgumentException if the id is out of the tokenizer's range
     */
    public String push(int id) {
        if (id < 0 || id >= tokenizer.vocabSize()) {
            throw new IllegalArgumentException("token id " + id + " is out of range: the tokenizer has "
                    + tokenizer.vocabSize() + " tokens (0.." + (tokenizer.vocabSize() - 1) + ")");
        }
        if (tokenizer instanceof CharTokenizer chars) {
            return Character.toString(chars.character(id));
        }
        if (byteLevel != null && byteLevel.tokenBytes(id) != null) {
            return pushBytes(byteLevel.tokenBytes(id));
        }
        return pushGeneric(id);
    }

    /** Returns whatever is still pending (an incomplete character decodes to U+FFFD) and resets. */
    public String finish() {
        String rest;
        if (byteLevel != null) {
            bytes.flip();
            CharBuffer out = CharBuffer.allocate(bytes.remaining() + 1);
            utf8.decode(bytes, out, true);
            utf8.flush(out);
            utf8.reset();
            bytes.clear();
            rest = out.flip().toString();
        } else {
            String before = decode(prefixOffset, readOffset);
            String after = decode(prefixOffset, size);
            rest = after.startsWith(before) ? after.substring(before.length()) : after;
        }
        size = prefixOffset = readOffset = 0;
        return rest;
    }

    private String pushBytes(byte[] token) {
        if (bytes.remaining() < token.length) {
            bytes = ByteBuffer.allocate(bytes.position() + token.length + 64).put(bytes.flip());
        }
        bytes.put(token);
        bytes.flip();
        CharBuffer out = CharBuffer.allocate(bytes.remaining() + 1);
        utf8.decode(bytes, out, false);
        bytes.compact();
        return out.flip().toString();
    }

    private String pushGeneric(int id) {
        if (size == ids.length) {
            compact();
        }
        ids[size++] = id;
        String before = decode(prefixOffset, readOffset);
        String after = decode(prefixOffset, size);
        boolean complete = !after.endsWith("\uFFFD") || size - readOffset >= MAX_PENDING_TOKENS;
        if (after.length() > before.length() && after.startsWith(before) && complete) {
            prefixOffset = readOffset;
            readOffset = size;
            return after.substring(before.length());
        }
        return "";
    }

    private String decode(int from, int to) {
        return from == to ? "" : tokenizer.decode(Arrays.copyOfRange(ids, from, to));
    }

    /** Drops tokens before the context window, growing the buffer only if the window fills it. */
    private void compact() {
        if (prefixOffset > 0) {
            System.arraycopy(ids, prefixOffset, ids, 0, size - prefixOffset);
            size -= prefixOffset;
            readOffset -= prefixOffset;
            prefixOffset = 0;
        }
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
    }
}
