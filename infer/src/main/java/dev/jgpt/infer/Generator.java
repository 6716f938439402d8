package dev.jgpt.infer;

import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Generates text from a GPT with a KV cache: the prompt goes through in one batched pass
 * (prefill), then each new token is one matrix-vector pass over the cache.
 *
 * <pre>{@code
 * try (Tokenizer tok = Tokenizers.load(dir)) {
 *     Generator gen = new Generator(ModelDir.load(dir), tok);
 *     GenerationResult r = gen.generate("Once upon a time", GenerationOptions.defaults(),
 *             t -> System.out.print(t.text()));
 *     // or: gen.start("Once upon a time", options).stream().map(Token::text)...
 * }
 * }</pre>
 *
 * <p><b>Sessions.</b> The cache persists between calls: each {@code generate} or {@code start}
 * continues where the last one ended (its prompt is appended after the previous text), which is
 * how a chat or REPL keeps its context without recomputing it. Call {@link #reset()} to start over.
 * The last sampled token of a generation is fed at the start of the next one.
 *
 * <p><b>Context overflow.</b> A prompt longer than the model's context is an
 * {@link IllegalArgumentException}. When generation reaches the end of the context it stops with
 * {@link StopReason#CONTEXT_FULL} by default; with {@link GenerationOptions.Overflow#SLIDE} it keeps
 * the most recent half of the context, re-runs it and goes on. A prompt that does not fit after
 * the text already in the session is an {@link IllegalStateException} under {@code STOP} (reset
 * first), and slides under {@code SLIDE}.
 *
 * <p>Not thread-safe; it uses the model's buffers, so one generator per model at a time.
 */
public final class Generator {
    private final GPT model;
    private final Tokenizer tokenizer;
    private final InferenceSession session;
    private final int vocab;          // ids the sampler may draw: those both model and tokenizer know
    private int[] history = new int[64];   // the tokens in the cache, in order
    private int historySize;
    private int pending = -1;         // sampled but not yet fed to the model
    private Generation active;

    /**
     * @throws IllegalArgumentException if the tokenizer has more tokens than the model's vocabulary
     */
    public Generator(GPT model, Tokenizer tokenizer) {
        this(model, tokenizer, Math.min(model.config.blockSize(), InferenceSession.DEFAULT_CONTEXT));
    }

    /**
     * A generator whose session holds {@code context} positions (1 .. the model's context).
     *
     * @throws IllegalArgumentException if the tokenizer has more tokens than the model's vocabulary
     */
    public Generator(GPT model, Tokenizer tokenizer, int context) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (tokenizer.vocabSize() > model.config.vocabSize()) {
            throw new IllegalArgumentException("generator: the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocabulary is " + model.config.vocabSize());
        }
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = tokenizer;
        this.session = new InferenceSession(model, context);
        this.vocab = tokenizer.vocabSize();
    }

    public GPT model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The session's context length in tokens (the model's, unless a shorter one was asked for). */
    public int contextLength() {
        return session.capacity();
    }

    /** Tokens in the session so far: the cached ones plus a sampled one waiting to be fed. */
    public int position() {
        return historySize + (pending >= 0 ? 1 : 0);
    }

    /** The session's tokens so far (cached plus pending), oldest first. */
    public int[] tokens() {
        int[] out = Arrays.copyOf(history, position());
        if (pending >= 0) {
            out[historySize] = pending;
        }
        return out;
    }

    /** Forgets the session: the next generation starts from an empty context. */
    public void reset() {
        session.reset();
        historySize = 0;
        pending = -1;
        active = null;
    }

    /**
     * Keeps the session's first {@code tokens} tokens (of {@link #tokens()}) and forgets the rest,
     * so that the next generation continues after them: how a chat whose earlier text changed
     * re-runs only what differs. Ends the active generation unless nothing is forgotten.
     *
     * @throws IllegalArgumentException if {@code tokens} is outside {@code 0..position()}
     */
    public void truncate(int tokens) {
        if (tokens < 0 || tokens > position()) {
            throw new IllegalArgumentException("truncate: " + tokens + " tokens is outside 0.." + position());
        }
        if (tokens == position()) {
            return;
        }
        session.truncate(tokens);
        historySize = tokens;
        pending = -1;
        active = null;
    }

    /** Runs a generation to its end, calling {@code listener} with each token as it is produced. */
    public GenerationResult generate(String prompt, GenerationOptions options, TokenListener listener) {
        return start(prompt, options).forEach(listener);
    }

    /** Runs a generation from prompt token ids to its end, calling {@code listener} per token. */
    public GenerationResult generate(int[] prompt, GenerationOptions options, TokenListener listener) {
        return start(prompt, options).forEach(listener);
    }

    /** Encodes {@code prompt} and {@link #start(int[], GenerationOptions) starts} a generation. */
    public Generation start(String prompt, GenerationOptions options) {
        return start(tokenizer.encode(prompt), options);
    }

    /**
     * Runs the prompt through the model (prefill) and returns the generation as an iterator of
     * tokens; each {@code next()} computes one token. An empty prompt continues the session, or, if
     * the session is empty, starts from {@link Tokenizer#startTokens()} (BOS, end-of-text or a newline).
     *
     * @throws IllegalArgumentException if the prompt is longer than the context, holds an id
     *                                  outside the model's vocabulary, or is empty with nothing to
     *                                  start from
     * @throws IllegalStateException    if the prompt does not fit after the session's text and
     *                                  the overflow policy is {@code STOP}
     */
    public Generation start(int[] prompt, GenerationOptions options) {
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= model.config.vocabSize()) {
                throw new IllegalArgumentException("prompt token " + prompt[i] + " at position " + i
                        + " is outside the model's vocabulary of " + model.config.vocabSize());
            }
        }
        int[] feed = prompt;
        if (pending >= 0) {
            feed = new int[prompt.length + 1];
            feed[0] = pending;
            System.arraycopy(prompt, 0, feed, 1, prompt.length);
        } else if (prompt.length == 0) {
            feed = startTokens();
        }
        int capacity = session.capacity();
        if (feed.length > capacity) {
            throw new IllegalArgumentException("the prompt is " + feed.length + " tokens but the model's context is "
                    + capacity + " tokens");
        }
        if (historySize + feed.length > capacity && options.overflow() == GenerationOptions.Overflow.STOP) {
            throw new IllegalStateException("context full: " + historySize + " tokens in the session + "
                    + feed.length + " new exceed the model's context of " + capacity + " tokens (reset the session, "
                    + "or slide the window)");
        }
        active = null;
        pending = -1;
        long t0 = System.nanoTime();
        if (historySize + feed.length > capacity) {
            feed = slide(feed);
        }
        float[] logits = session.append(feed);
        addHistory(feed);
        long prefill = System.nanoTime() - t0;
        Generation g = new Generation(options, logits, feed.length, prefill);
        active = g;
        return g;
    }

    /**
     * What an empty prompt starts from: {@link Tokenizer#startTokens()}, the beginning-of-text token, else
     * end-of-text where the vocabulary has one (as nanoGPT's sample.py), else a newline (character models).
     */
    private int[] startTokens() {
        int[] start = tokenizer.startTokens();
        if (start.length == 0 || Arrays.stream(start).anyMatch(id -> id < 0 || id >= vocab)) {
            throw new IllegalArgumentException("the prompt is empty and the tokenizer has no token to start "
                    + "from (beginning or end of text, or a newline): give a prompt");
        }
        return start;
    }

    /**
     * Empties the cache and returns what to run next: the most recent history that fits in half
     * the context together with {@code extra}, then {@code extra}.
     */
    private int[] slide(int[] extra) {
        int keep = Math.max(0, Math.min(historySize, session.capacity() / 2 - extra.length));
        int[] window = new int[keep + extra.length];
        System.arraycopy(history, historySize - keep, window, 0, keep);
        System.arraycopy(extra, 0, window, keep, extra.length);
        session.reset();
        historySize = 0;
        return window;
    }

    private void addHistory(int[] ids) {
        if (historySize + ids.length > history.length) {
            history = Arrays.copyOf(history, Math.max(history.length * 2, historySize + ids.length));
        }
        System.arraycopy(ids, 0, history, historySize, ids.length);
        historySize += ids.length;
    }

    /**
     * One generation: an iterator of tokens, each computed on demand. Stopping early (not
     * consuming the rest) is allowed; {@link #result()} then reports {@link StopReason#CANCELLED}.
     * Starting another generation or resetting the generator ends this one.
     */
    public final class Generation implements Iterator<Token> {
        private final Continuation continuation;
        private float[] logits;
        private final int promptTokens;
        private final long prefillNanos;
        private long decodeNanos;
        private Token next;

        private Generation(GenerationOptions options, float[] logits, int promptTokens, long prefillNanos) {
            this.continuation = new Continuation(tokenizer, vocab, options);
            this.logits = logits;
            this.promptTokens = promptTokens;
            this.prefillNanos = prefillNanos;
        }

        @Override
        public boolean hasNext() {
            if (next == null && !continuation.isDone()) {
                next = step();
            }
            return next != null;
        }

        @Override
        public Token next() {
            if (!hasNext()) {
                throw new NoSuchElementException("generation ended: " + continuation.reason().label());
            }
            Token t = next;
            next = null;
            return t;
        }

        /** The tokens as a sequential stream (computed lazily as it is consumed). */
        public Stream<Token> stream() {
            return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this,
                    Spliterator.ORDERED | Spliterator.NONNULL), false);
        }

        /** Consumes every remaining token, passing each to {@code listener}, and returns the result. */
        public GenerationResult forEach(TokenListener listener) {
            while (hasNext()) {
                listener.onToken(next());
            }
            return result();
        }

        /** True once the generation has ended (by any {@link StopReason}). */
        public boolean isDone() {
            return continuation.isDone() && next == null;
        }

        /**
         * The result so far. If the generation has not ended, it ends here as
         * {@link StopReason#CANCELLED}.
         */
        public GenerationResult result() {
            continuation.cancel();
            return new GenerationResult(continuation.tokens(), continuation.text(), continuation.reason(),
                    new GenerationStats(promptTokens, continuation.generated(), prefillNanos, decodeNanos));
        }

        /** Computes the next token, or ends the generation and returns null. */
        private Token step() {
            if (active != this) {
                throw new IllegalStateException("generation is no longer active: the generator was reset or "
                        + "started another generation");
            }
            long t0 = System.nanoTime();
            if (continuation.generated() > 0) {
                // feed the previous token; the first one came from the prefill's logits
                int[] feed = {pending};
                if (historySize == session.capacity()) {   // only under SLIDE: STOP ended the generation
                    feed = slide(feed);
                }
                logits = session.append(feed);
                addHistory(feed);
                pending = -1;
            }
            boolean contextFull = historySize == session.capacity()
                    && continuation.options().overflow() == GenerationOptions.Overflow.STOP;
            Token t = continuation.next(logits, history, historySize, contextFull);
            pending = t.id();
            if (continuation.generated() > 1) {
                decodeNanos += System.nanoTime() - t0;
            }
            return t;
        }
    }
}
