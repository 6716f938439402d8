package dev.jgpt.server;

import java.util.List;

/**
 * The model side of continuous batching, and all the {@link Scheduler} needs of a model: sequences
 * that each have their own KV cache and position, and a step that appends new tokens to several
 * of them at once and returns each one's next-token logits.
 *
 * <p>Everything else (slots, the queue, sampling, stop strings, cancellation) is the scheduler's;
 * {@link BatchedEngine} runs all sequences' new tokens in one forward pass, reading the weights once
 * per step.
 *
 * <p>Called from one thread at a time (the scheduler's).
 */
public interface BatchEngine {

    /** The most positions one sequence holds: the model's (or the configured) context length. */
    int contextLength();

    /** Length of every logits row: the model's vocabulary. */
    int vocabSize();

    /**
     * A new, empty sequence (position 0) with a KV cache of {@link #contextLength()} positions.
     * The scheduler makes one per slot at start and reuses it for request after request.
     */
    Sequence newSequence();

    /**
     * Appends {@code tokens.get(i)} to {@code sequences.get(i)} for every i, each at the sequence's
     * own position onwards, and returns the logits that follow each sequence's last new token.
     * A sequence gets its whole prompt in the step it joins and one token in every later step;
     * the sequences are distinct and none may overflow its context.
     *
     * <p>A sequence's logits must not depend on which other sequences share the step (greedy output
     * is the same alone or beside others).
     *
     * @return one row per sequence, in order, each at least {@link #vocabSize()} long; owned by the
     *         engine and valid until the next call
     */
    float[][] step(List<Sequence> sequences, List<int[]> tokens);

    /** One sequence's cache: made by {@link #newSequence()}, passed back to {@link #step}. */
    interface Sequence {
        /** Tokens cached so far: where the next appended token goes. */
        int position();

        /** Forgets every cached token (position 0 again), for the slot's next request. */
        void reset();
    }
}
