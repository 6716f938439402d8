package dev.jgpt.server;

import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;

import java.util.List;

/**
 * A {@link BatchEngine} on today's model API: one {@link InferenceSession} (KV cache) per sequence,
 * and a step that appends to each in turn. Correct but not batched: every sequence reads the
 * weights once per step (matrix-vector work), so aggregate speed does not grow with the number of
 * streams. The sessions share the model's buffers, which is safe because steps run one at a time.
 */
public final class SessionEngine implements BatchEngine {
    private final GPT model;
    private final int contextLength;

    /**
     * @param contextLength positions per sequence, at most the model's context (a smaller one
     *                      bounds what a request may use; the cache is still the model's size)
     */
    public SessionEngine(GPT model, int contextLength) {
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
        return new SessionSequence(new InferenceSession(model));
    }

    @Override
    public float[][] step(List<Sequence> sequences, List<int[]> tokens) {
        if (sequences.size() != tokens.size()) {
            throw new IllegalArgumentException("step: " + sequences.size() + " sequences but " + tokens.size() + " token lists");
        }
        float[][] logits = new float[sequences.size()][];
        for (int i = 0; i < logits.length; i++) {
            SessionSequence s = (SessionSequence) sequences.get(i);
            int[] t = tokens.get(i);
            if (s.session.position() + t.length > contextLength) {
                throw new IllegalStateException("step: sequence at position " + s.session.position() + " + "
                        + t.length + " tokens exceeds the context of " + contextLength);
            }
            logits[i] = s.session.append(t);   // each session owns its logits buffer
        }
        return logits;
    }

    private record SessionSequence(InferenceSession session) implements Sequence {
        @Override
        public int position() {
            return session.position();
        }

        @Override
        public void reset() {
            session.reset();
        }
    }
}
