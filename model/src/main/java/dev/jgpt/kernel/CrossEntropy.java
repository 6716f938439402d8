package dev.jgpt.kernel;

/**
 * Fused softmax + cross-entropy over rows of logits [rows × V]. Targets below 0 are ignored
 * (no loss, zero gradient), as PyTorch's ignore_index.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Writes each row's loss −log softmax(logits)[target] into losses (NaN-free for finite logits;
     * 0 for ignored rows). If {@code gradScale != 0}, overwrites logits in place with
     * gradScale·(softmax − onehot(target)), the gradient of gradScale·Σ losses.
     * Returns the number of rows that were not ignored.
     */
    public static int forwardBackward(float[] logits, int[] targets, float[] losses, int rows, int V, float gradScale) {
        Checks.length("crossEntropy", "logits", logits, (long) rows * V);
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t >= V) {
                throw new IllegalArgumentException("crossEntropy: target " + t + " at row " + r
                        + " is outside the vocabulary of " + V);
            }
            if (t >= 0) {
                counted++;
            }
        }
        Parallel.forRange(rows, 4, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * V;
                int t = targets[r];
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < V; i++) {
                    max = Math.max(max, logits[o + i]);
                }
                double sum = 0;
                for (int i = 0; i < V; i++) {
                    sum += Math.exp(logits[o + i] - max);
                }
                float logZ = (float) (max + Math.log(sum));
                losses[r] = t >= 0 ? logZ - logits[o + t] : 0f;
                if (gradScale != 0f) {
                    float scale = t >= 0 ? gradScale : 0f;
                    for (int i = 0; i < V; i++) {
                        logits[o + i] = (float) Math.exp(logits[o + i] - logZ) * scale;
                    }
                    if (t >= 0) {
                        logits[o + t] -= scale;
                    }
                }
            }
        });
        return counted;
    }

    /** probs = softmax(logits) over one row of n elements starting at offset. */
    public static void softmax(float[] probs, int pOff, float[] logits, int lOff, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[lOff + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(logits[lOff + i] - max);
            probs[pOff + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            probs[pOff + i] *= inv;
        }
    }
}
