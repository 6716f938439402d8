package dev.jgpt.kernel;

/**
 * Fused softmax + cross-entropy over rows of logits [rows × V]. Targets below 0 are ignored
 * (no loss, zero gradient), as PyTorch's ignore_index. SIMD over V, parallel over rows.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Writes each row's loss −log softmax(logits)[target] into losses (0 for ignored rows). If
     * {@code gradScale != 0}, overwrites logits in place with gradScale·(softmax − onehot(target)), the
     * gradient of gradScale·Σ losses (ignored rows become zeros). Returns the number of rows that were not
     * ignored.
     *
     * <p>Numerics: log Σ exp is taken after subtracting the row max, with the exponentials summed in
     * double per block, and the loss is formed in double as (max − logit[target]) + log Σ, so logits of
     * any finite magnitude give a finite, accurate loss. A logit of −∞ is allowed (probability 0); a
     * target on such a logit has loss +∞.
     *
     * @throws IllegalArgumentException on a target ≥ V or short arrays
     * @throws ArithmeticException if a counted row's log-sum-exp is not finite (a NaN or +∞ logit, or
     *         all −∞); that row's logits may already have been overwritten when it is thrown
     */
    public static int forwardBackward(float[] logits, int[] targets, float[] losses, int rows, int V, float gradScale) {
        String op = "crossEntropy(rows=" + rows + ", V=" + V + ")";
        Checks.nonNegative(op, "rows", rows);
        Checks.positive(op, "V", V);
        Checks.length(op, "logits", logits, (long) rows * V);
        Checks.length(op, "targets", targets, rows);
        Checks.length(op, "losses", losses, rows);
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t >= V) {
                throw new IllegalArgumentException(op + ": target " + t + " at row " + r
                        + " is outside the vocabulary of " + V);
            }
            if (t >= 0) {
                counted++;
            }
        }
        // Rows are independent; a row is a few hundred exp for a small vocabulary, so even a character
        // model's batch (768 rows of 65) is worth splitting.
        Parallel.forRange(rows, Math.max(1, (1 << 13) / V), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                row(logits, targets[r], losses, r, V, gradScale);
            }
        });
        return counted;
    }

    private static void row(float[] logits, int t, float[] losses, int r, int V, float gradScale) {
        int o = r * V;
        if (t < 0) {
            losses[r] = 0f;
            if (gradScale != 0f) {
                java.util.Arrays.fill(logits, o, o + V, 0f);
            }
            return;
        }
        float target = logits[o + t];
        float max = Vec.max(logits, o, V);
        double sum = gradScale != 0f
                ? Vec.expShiftSum(logits, o, logits, o, V, max) // keep e^(l−max) for the gradient
                : Vec.expShiftSum(logits, o, V, max);
        double logSum = Math.log(sum);
        // Cheap NaN/∞ guard: a NaN anywhere in the row reaches the sum.
        if (!Double.isFinite(logSum) || !Float.isFinite(max)) {
            throw new ArithmeticException("crossEntropy: row " + r + " (of V=" + V + ") has a non-finite "
                    + "log-sum-exp (max logit " + max + ", Σexp " + sum + "): NaN or +∞ logits?");
        }
        losses[r] = (float) (((double) max - target) + logSum);
        if (gradScale != 0f) {
            Vec.scale(logits, o, (float) (gradScale / sum), V);
            logits[o + t] -= gradScale;
        }
    }

    /**
     * probs = softmax(logits) over one row of n elements starting at offset (max subtracted first; probs
     * may be the same array and offset as logits). A NaN logit gives NaN probabilities.
     */
    public static void softmax(float[] probs, int pOff, float[] logits, int lOff, int n) {
        if (n <= 0 || probs == null || logits == null || pOff < 0 || lOff < 0
                || (long) pOff + n > probs.length || (long) lOff + n > logits.length) {
            throw new IllegalArgumentException("softmax(n=" + n + "): need n > 0, logits ≥ lOff+n ("
                    + (logits == null ? "null" : logits.length) + ", lOff " + lOff + "), probs ≥ pOff+n ("
                    + (probs == null ? "null" : probs.length) + ", pOff " + pOff + ")");
        }
        float max = Vec.max(logits, lOff, n);
        double sum = Vec.expShiftSum(probs, pOff, logits, lOff, n, max);
        Vec.scale(probs, pOff, (float) (1.0 / sum), n);
    }
}
