package dev.jgpt.model;

import dev.jgpt.common.TokenSequence;

/**
 * Mean next-token cross-entropy of a model over a token stream, in consecutive windows of the
 * model's context (each window predicts tokens 1..T from 0..T−1; the last window may be shorter),
 * so every token after the first is scored exactly once.
 */
public final class Evaluation {
    /** The mean loss in nats and how many tokens it averaged over. */
    public record Result(double loss, long tokens) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    /** Logits of a batch take rows × vocab floats: cap them at this many (256 MB). */
    private static final long MAX_LOGITS = 1L << 26;

    private Evaluation() {}

    public static Result meanLoss(GPT model, TokenSequence src) {
        return meanLoss(model, src, null);
    }

    /** As {@link #meanLoss(GPT, TokenSequence)}, calling {@code progress} with the tokens scored so far. */
    public static Result meanLoss(GPT model, TokenSequence src, java.util.function.LongConsumer progress) {
        long n = src.size();
        if (n < 2) {
            throw new IllegalArgumentException("evaluation needs at least 2 tokens, got " + n);
        }
        // Windows of the model's context, up to the default inference context (a Llama 3 model's 131072
        // positions in one window would need gigabytes of attention scores).
        int T = Math.min(model.config.blockSize(), InferenceSession.DEFAULT_CONTEXT), V = model.config.vocabSize();
        int batch = (int) Math.max(1, Math.min(64, MAX_LOGITS / ((long) T * V)));
        boolean wasTraining = model.isTraining();
        model.setTraining(false);
        double sum = 0;
        long scored = 0;
        try {
            long start = 0;
            while (start < n - 1) {
                long windows = Math.min(batch, (n - 1 - start) / T);
                int len = windows > 0 ? T : (int) (n - 1 - start); // full windows, then the one short tail
                int b = (int) Math.max(1, windows);
                int[] x = new int[b * len], y = new int[b * len], buf = new int[len + 1];
                for (int w = 0; w < b; w++) {
                    src.read(start + (long) w * len, buf, 0, len + 1);
                    for (int i = 0; i < len; i++) {
                        checkToken(buf[i], V, start + (long) w * len + i);
                        checkToken(buf[i + 1], V, start + (long) w * len + i + 1);
                    }
                    System.arraycopy(buf, 0, x, w * len, len);
                    System.arraycopy(buf, 1, y, w * len, len);
                }
                sum += (double) model.loss(x, y, b, len) * b * len;
                scored += (long) b * len;
                start += (long) b * len;
                if (progress != null) {
                    progress.accept(scored);
                }
            }
        } finally {
            model.setTraining(wasTraining);
        }
        return new Result(sum / scored, scored);
    }

    private static void checkToken(int id, int V, long position) {
        if (id < 0 || id >= V) {
            throw new IllegalArgumentException("token id " + id + " at position " + position
                    + " is outside the model's vocabulary of " + V + " (wrong tokenizer for this model?)");
        }
    }
}
