package dev.jgpt.model;

/**
 * Incremental inference on one sequence with a KV cache: {@link #append} runs only the new tokens
 * (a prompt as one matrix-matrix pass, then one token at a time as matrix-vector work) and returns the
 * logits of the last one. The cache holds {@link #capacity()} positions (the model's context, or less:
 * a Llama 3 model's 131072 positions would take gigabytes of cache); overflowing it is an error the
 * caller handles (stop, or {@link #truncate} and re-prefill a shorter window).
 *
 * <p>Uses the model's buffers: one forward at a time per model, and no training on it meanwhile.
 */
public final class InferenceSession {
    private final GPT model;
    private final KVCache cache;
    private final float[] logits;
    private int position;

    /** Positions a session holds unless told otherwise, at most: llama.cpp's default context. */
    public static final int DEFAULT_CONTEXT = 4096;

    /** A session over the model's context, or {@link #DEFAULT_CONTEXT} positions if that is shorter. */
    public InferenceSession(GPT model) {
        this(model, Math.min(model.config.blockSize(), DEFAULT_CONTEXT));
    }

    /** A session of {@code capacity} positions (1 .. the model's context). */
    public InferenceSession(GPT model, int capacity) {
        this.model = model;
        this.cache = new KVCache(model.config, capacity);
        this.logits = new float[model.config.vocabSize()];
    }

    /**
     * Processes tokens at positions {@link #position()}.. and returns the logits of the last one
     * ([vocab], a buffer this session owns and overwrites on the next call).
     */
    public float[] append(int... tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("append: no tokens");
        }
        if (position + tokens.length > cache.capacity) {
            throw new IllegalStateException("context overflow: " + position + " cached + " + tokens.length
                    + " new tokens exceed the model's context of " + cache.capacity + " tokens");
        }
        model.forwardCached(tokens, Batch.cached(cache, position, tokens.length), logits);
        position += tokens.length;
        return logits;
    }

    /** The number of cached positions (the position the next token will take). */
    public int position() {
        return position;
    }

    /** The most positions the cache can hold. */
    public int capacity() {
        return cache.capacity;
    }

    public void reset() {
        position = 0;
    }

    /** Forgets cached positions ≥ pos (their keys and values are overwritten by later appends). */
    public void truncate(int pos) {
        if (pos < 0 || pos > position) {
            throw new IllegalArgumentException("truncate: position " + pos + " is outside 0.." + position);
        }
        position = pos;
    }

    public GPT model() {
        return model;
    }
}
