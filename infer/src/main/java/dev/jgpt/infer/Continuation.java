package dev.jgpt.infer;

import dev.jgpt.tokenizer.TokenStreamDecoder;
import dev.jgpt.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;

/**
 * One sequence's side of a generation, apart from the model: turns each step's next-token logits
 * into the sampled token and the text it releases, and decides when the sequence ends (end of
 * text or another stop token, a stop string, the token limit, a full context). It holds the sequence's sampler,
 * detokeniser and stop-string state, so any number of sequences can be generated side by side,
 * however their forward passes are run ({@link Generator} runs one; a server batches many).
 *
 * <p>Not thread-safe: one continuation per sequence.
 */
public final class Continuation {
    private final GenerationOptions options;
    private final int vocab;          // ids the sampler may draw
    private final int endOfText;      // −1 if the tokenizer has none
    private final BitSet stopTokens;  // more ids that end the sequence as end-of-text does
    private final Sampler sampler;
    private final TokenStreamDecoder text;
    private final StopMatcher stops;
    private final StringBuilder released = new StringBuilder();
    private int[] ids = new int[16];
    private int generated;
    private StopReason reason;

    /**
     * @param tokenizer decodes the tokens; its end-of-text token ends the sequence if the options say so
     * @param vocab     the sampler draws ids in {@code [0, vocab)}: those both the model and the tokenizer know
     */
    public Continuation(Tokenizer tokenizer, int vocab, GenerationOptions options) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        this.options = Objects.requireNonNull(options, "options");
        if (vocab <= 0 || vocab > tokenizer.vocabSize()) {
            throw new IllegalArgumentException("continuation: vocab " + vocab + " is outside 1.." + tokenizer.vocabSize());
        }
        this.vocab = vocab;
        this.endOfText = tokenizer.endOfText().orElse(-1);
        this.stopTokens = new BitSet();
        options.stopTokens().forEach(stopTokens::set);
        this.sampler = options.newSampler();
        this.text = new TokenStreamDecoder(tokenizer);
        this.stops = new StopMatcher(options.stop());
        if (options.maxTokens() == 0) {
            reason = StopReason.MAX_TOKENS;
        }
    }

    /**
     * Samples the next token from {@code logits} and returns it with the text it releases; after
     * the token that ends the sequence, {@link #reason()} says why.
     *
     * @param logits      the next-token logits (at least {@code vocab} of them; not modified)
     * @param history     the tokens in the context so far, oldest first (for the repetition penalty)
     * @param historySize how many of {@code history} are valid
     * @param contextFull true if the context has no position left for the token sampled now, so
     *                    the sequence must end with it (under {@link GenerationOptions.Overflow#STOP})
     * @throws IllegalStateException if the sequence has already ended
     */
    public Token next(float[] logits, int[] history, int historySize, boolean contextFull) {
        if (reason != null) {
            throw new IllegalStateException("continuation: the sequence has ended: " + reason.label());
        }
        int window = options.repeatLastN() < 0 ? historySize : Math.min(historySize, options.repeatLastN());
        int id = sampler.sample(logits, vocab, history, historySize - window, historySize);
        if (generated == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[generated++] = id;
        String out = "";
        if ((id == endOfText || stopTokens.get(id)) && options.stopAtEndOfText()) {
            reason = StopReason.END_OF_TEXT;   // its own text ("<|endoftext|>", "<|im_end|>") is not output
        } else {
            out = stops.push(text.push(id));
            if (stops.matched()) {
                reason = StopReason.STOP_STRING;
            } else if (generated == options.maxTokens()) {
                reason = StopReason.MAX_TOKENS;
            } else if (contextFull) {
                reason = StopReason.CONTEXT_FULL;   // the next token would have no position to go to
            }
        }
        if (reason != null && reason != StopReason.STOP_STRING) {
            // release what was held back: an incomplete character, a possible stop-string start
            out += stops.push(text.finish());
            if (stops.matched()) {
                reason = StopReason.STOP_STRING;
            } else {
                out += stops.flush();
            }
        }
        released.append(out);
        return new Token(id, out, generated - 1);
    }

    /** Why the sequence ended, or null while it goes on. */
    public StopReason reason() {
        return reason;
    }

    public boolean isDone() {
        return reason != null;
    }

    /** Ends the sequence as {@link StopReason#CANCELLED} unless it has already ended. */
    public void cancel() {
        if (reason == null) {
            reason = StopReason.CANCELLED;
        }
    }

    public GenerationOptions options() {
        return options;
    }

    /** Number of tokens sampled so far (an end-of-text token that ended the sequence included). */
    public int generated() {
        return generated;
    }

    /** The tokens sampled so far, in order. */
    public int[] tokens() {
        return Arrays.copyOf(ids, generated);
    }

    /** The text released so far (without a matched stop string or the end-of-text token). */
    public String text() {
        return released.toString();
    }
}
