package dev.jgpt.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Text ⇄ token ids. Every implementation can be saved as a Hugging Face {@code tokenizer.json},
 * so a model directory always carries the tokenizer it was trained with; load one back with
 * {@link Tokenizers#load(Path)}.
 *
 * <p>Implementations are thread-safe. Close the tokenizer when done (the Hugging Face one holds
 * native memory); closing the others is a no-op.
 */
public interface Tokenizer extends AutoCloseable {

    /** Token ids of {@code text}; no special tokens are added, nothing is truncated or padded. */
    int[] encode(String text);

    /**
     * The text of {@code ids}; the inverse of {@link #encode} for any text the tokenizer covers.
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, vocabSize())}
     */
    String decode(int[] ids);

    /** Number of token ids: every id is in {@code [0, vocabSize())}. */
    int vocabSize();

    /** The id of the end-of-text token ({@code <|endoftext|>}), if the vocabulary has one. */
    OptionalInt endOfText();

    /** The id of the beginning-of-text token (Llama's {@code <s>}, {@code <|begin_of_text|>}), if the tokenizer puts one first. */
    default OptionalInt beginningOfText() {
        return OptionalInt.empty();
    }

    /**
     * What a text without a prompt starts from: the beginning-of-text token, else end-of-text (GPT-2
     * samples from {@code <|endoftext|>}), else a newline (as nanoGPT samples a char model); an empty
     * array if the vocabulary has none of them.
     */
    default int[] startTokens() {
        if (beginningOfText().isPresent()) {
            return new int[] {beginningOfText().getAsInt()};
        }
        if (endOfText().isPresent()) {
            return new int[] {endOfText().getAsInt()};
        }
        try {
            return encode("\n");
        } catch (RuntimeException noNewline) { // a char vocabulary without "\n"
            return new int[0];
        }
    }

    /** Short name of the algorithm: {@code char}, {@code bpe}, {@code wordpiece}, ... */
    String kind();

    /** Writes this tokenizer as a Hugging Face {@code tokenizer.json} (atomically). */
    void save(Path tokenizerJson) throws IOException;

    @Override
    default void close() {
    }
}
