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
        int[] firstBlock = blocks(tensors);
        double[] partial = new double[firstBlock[tensors.size()]];
        forEachBlock(tensors, firstBlock, (g, b, s, e) -> partial[b] = Vec.sumSquares(g, s, e - s));
        // Merged in a fixed order: each tensor's blocks into its sum, then the tensors' sums.
        double total = 0;
        for (int k = 0; k < tensors.size(); k++) {
            double t = 0;
            for (int b = firstBlock[k]; b < firstBlock[k + 1]; b++) {
                t += partial[b];
            }
            total += t;
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
            forEachBlock(tensors, blocks(tensors), (g, b, s, e) -> Vec.scale(g, s, factor, e - s));
        }
        return norm;
    }

    @FunctionalInterface
    private interface BlockBody {
        /** Block b (numbered over all tensors) is elements [s, e) of g. */
        void run(float[] g, int b, int s, int e);
    }

    /** firstBlock[k] = the number of the first block of tensor k; firstBlock[size] = all blocks. */
    private static int[] blocks(List<float[]> tensors) {
        int[] first = new int[tensors.size() + 1];
        for (int k = 0; k < tensors.size(); k++) {
            float[] g = tensors.get(k);
            if (g == null) {
                throw new IllegalArgumentException("gradNorm: tensor " + k + " of " + tensors.size() + " is null");
            }
            first[k + 1] = Math.addExact(first[k], (g.length + BLOCK - 1) / BLOCK);
        }
        return first;
    }

    /** Runs body over every block of every tensor: one parallel pass for all of them. */
    private static void forEachBlock(List<float[]> tensors, int[] firstBlock, BlockBody body) {
        Parallel.forRange(firstBlock[tensors.size()], 1, 4, (b0, b1) -> {
            int k = 0;
            for (int b = b0; b < b1; b++) {
                while (firstBlock[k + 1] <= b) {
                    k++;
                }
                float[] g = tensors.get(k);
                int s = (b - firstBlock[k]) * BLOCK;
                body.run(g, b, s, Math.min(g.length, s + BLOCK));
            }
        });
    }
}
