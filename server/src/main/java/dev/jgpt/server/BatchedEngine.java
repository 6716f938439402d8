package dev.jgpt.server;

import dev.jgpt.model.Batch;
import dev.jgpt.model.GPT;
import dev.jgpt.model.KVCache;

import java.util.Arrays;
import java.util.List;

/**
 * The {@link BatchEngine} of a {@link GPT}: each sequence owns a {@link KVCache}, and a step runs every
 * sequence's new tokens through the model in ONE cached forward ({@link Batch#cached}), so the weights
 * are read once per step however many sequences decode — matrix-matrix work instead of a
 * matrix-vector pass per sequence. The model computes each sequence's rows exactly as it would alone
 * (see {@code Linear}), so a request's output does not depend on its neighbours.
 */
public final class BatchedEngine implements BatchEngine {
    private final GPT model;
    private final int contextLength;
    private float[] logits = new float[0];
    private float[][] rows = new float[0][];

    /** @param contextLength positions per sequence (each sequence's cache), 1 .. the model's context */
    public BatchedEngine(GPT model, int contextLength) {
        if (contextLength <= 0 || contextLength > model.config.blockSize()) {
            throw new IllegalArgumentException("context length must be in 1.." + model.config.blockSize()
                    + " (the model's context), got " + contextLength);
        }
        this.model = model;
        this.contextLength = contextLength;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public int vocabSize() {
        return model.config.vocabSize();
    }

    @Override
    public Sequence newSequence() {
        return new CachedSequence(new KVCache(model.config, contextLength));
    }

    @Override
    public float[][] step(List<Sequence> sequences, List<int[]> tokens) {
        int S = sequences.size(), V = vocabSize();
        if (S != tokens.size()) {
            throw new IllegalArgumentException("step: " + S + " sequences but " + tokens.size() + " token lists");
        }
        KVCache[] caches = new KVCache[S];
        int[] positions = new int[S], counts = new int[S];
        int total = 0;
        for (int i = 0; i < S; i++) {
            CachedSequence s = (CachedSequence) sequences.get(i);
            caches[i] = s.cache;
            positions[i] = s.position;
            counts[i] = tokens.get(i).length;
            if (s.position + counts[i] > contextLength) {
                throw new IllegalStateException("step: sequence at position " + s.position + " + " + counts[i]
                        + " tokens exceeds the context of " + contextLength);
            }
            total += counts[i];
        }
        int[] all = new int[total];
        for (int i = 0, at = 0; i < S; at += counts[i], i++) {
            System.arraycopy(tokens.get(i), 0, all, at, counts[i]);
        }
        if (logits.length < S * V) {
            logits = new float[S * V];
        }
        model.forwardCached(all, Batch.cached(caches, positions, counts), logits);
        if (rows.length < S) {
            rows = Arrays.copyOf(rows, S);
        }
        for (int i = 0; i < S; i++) {
            if (rows[i] == null) {
                rows[i] = new float[V];
            }
            System.arraycopy(logits, i * V, rows[i], 0, V);
            ((CachedSequence) sequences.get(i)).position += counts[i];
        }
        return Arrays.copyOf(rows, S);
    }

    private static final class CachedSequence implements Sequence {
        final KVCache cache;
        int position;

        CachedSequence(KVCache cache) {
            this.cache = cache;
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public void reset() {
            position = 0;
        }
    }
}
