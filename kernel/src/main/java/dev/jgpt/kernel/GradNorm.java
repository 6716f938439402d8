package dev.jgpt.kernel;

import java.util.List;

/**
 * Global L2 norm of a set of gradient tensors and clipping by it (PyTorch's clip_grad_norm_).
 *
 * <p>Non-finite gradients: the norm is then NaN or +∞ and is returned as is; {@link #clip} leaves the
 * gradients untouched in that case (scaling by a NaN factor would only spread it). The caller (the
 * trainer) is expected to check {@code Double.isFinite} on the returned norm and stop or skip the step.
 */
public final class GradNorm {
    /** Elements per parallel task: each task's Σx² is a double, merged in a fixed order. */
    private static final int BLOCK = 1 << 16;

    private GradNorm() {}

    /**
     * √(Σ over all tensors of Σ x²), accumulated in double. Deterministic: independent of the thread
     * count (fixed blocks, merged in order). NaN if any element is NaN, +∞ if any is ±∞ (and none NaN). Squares are
     * formed in float, so elements beyond ~1.8e19 also give +∞ — a diverged run either way.
     */
    public static double globalNorm(List<float[]> tensors) {
        if (tensors == null) {
            throw new IllegalArgumentException("gradNorm: tensor list is null");
        }
        double total = 0;
        for (int k = 0; k < tensors.size(); k++) {
            float[] g = tensors.get(k);
            if (g == null) {
                throw new IllegalArgumentException("gradNorm: tensor " + k + " of " + tensors.size() + " is null");
            }
            total += sumSquares(g);
        }
        return Math.sqrt(total);
    }

    /**
     * If the global norm exceeds maxNorm, scales every tensor by maxNorm/(norm + 1e-6) (as PyTorch).
     * Returns the norm before clipping; if it is not finite nothing is scaled (see the class note).
     */
    public static double clip(List<float[]> tensors, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("gradNorm.clip: maxNorm must be positive, got " + maxNorm);
        }
        double norm = globalNorm(tensors);
        if (Double.isFinite(norm) && norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (float[] g : tensors) {
                Parallel.forRange(g.length, BLOCK, (s, e) -> Vec.scale(g, s, factor, e - s));
            }
        }
        return norm;
    }

    private static double sumSquares(float[] g) {
        int blocks = (g.length + BLOCK - 1) / BLOCK;
        if (blocks <= 1) {
            return Vec.sumSquares(g, 0, g.length);
        }
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int s = b * BLOCK;
                partial[b] = Vec.sumSquares(g, s, Math.min(BLOCK, g.length - s));
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }
}
