package dev.jgpt.tokenizer;

import java.util.Arrays;

/**
 * Decodes a stream of tokens one at a time, as generation produces them, returning only text
 * that is complete. With byte-level BPE one character can span several tokens (an emoji is four
 * bytes, often two or more tokens); decoding each token alone would print U+FFFD halves.
 *
 * <p>Method (as in Hugging Face's text-generation-inference): keep the tokens since the last
 * emitted text plus the token before them as context; decode the window with and without the
 * newest tokens, and emit the difference once it no longer ends in an incomplete character
 * (U+FFFD). Decoding with context also keeps tokenizers whose decoders depend on neighbours
 * (e.g. a leading-space marker) correct. The concatenation of all returned strings and
 * {@link #finish()} equals {@code tokenizer.decode(allIds)}.
 *
 * <p>Not thread-safe: one decoder per generated sequence.
 */
public final class TokenStreamDecoder {
    private final Tokenizer tokenizer;
    private int[] ids = new int[16];
    private int size;
    private int prefixOffset;   // start of the context window
    private int readOffset;     // tokens before this have been emitted

    public TokenStreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
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
        if (tokenizer instanceof CharTokenizer chars) {   // one token = one whole character
            return Character.toString(chars.character(id));
        }
        if (size == ids.length) {
            compact();
        }
        ids[size++] = id;
        String before = decode(prefixOffset, readOffset);
        String after = decode(prefixOffset, size);
        if (after.length() > before.length() && after.startsWith(before) && !after.endsWith("\uFFFD")) {
            prefixOffset = readOffset;
            readOffset = size;
            return after.substring(before.length());
        }
        return "";
    }

    /** Returns whatever is still pending (an incomplete character decodes to U+FFFD) and resets. */
    public String finish() {
        String before = decode(prefixOffset, readOffset);
        String after = decode(prefixOffset, size);
        String rest = after.startsWith(before) ? after.substring(before.length()) : after;
        size = prefixOffset = readOffset = 0;
        return rest;
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
