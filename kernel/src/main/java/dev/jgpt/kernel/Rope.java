package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * Rotary position embeddings applied in place, in Hugging Face {@code modeling_llama}'s convention
 * ({@code rotate_half}): element i of a head's first half is paired with element i + headDim/2 of its
 * second half (not with its neighbour), and the pair turns by the angle pos·f_i of {@link RopeTable}:
 * <pre>
 *   x_i        ← x_i·cos − x_{i+d/2}·sin
 *   x_{i+d/2}  ← x_{i+d/2}·cos + x_i·sin          (i &lt; d/2, d = headDim)
 * </pre>
 * This is how HF checkpoints store their q and k projections, so their weights are used as they are.
 *
 * <p>Layout: {@code rows} rows of {@code rowStride} floats from {@code off}; in each, {@code heads}
 * consecutive heads of headDim floats are rotated, row r at its own absolute position positions[r]
 * (any order: KV-cache decode, several sequences at different positions). In a packed attention row
 * [q (n_head·hd) | k (n_kv_head·hd) | v] the q and k heads are adjacent, so one call with
 * heads = n_head + n_kv_head rotates both and leaves v alone.
 *
 * <p>Element-wise with fused multiply-adds (a scalar tail for head sizes that are not a multiple of the
 * vector length does the same IEEE operations), so the result does not depend on the thread count.
 * Parallel over rows.
 */
public final class Rope {
    private Rope() {}

    /** Rotates q/k heads in place by their positions' angles (see the class note). */
    public static void forward(float[] x, int off, int rowStride, int rows, int heads, int[] positions,
                               RopeTable table) {
        rotate("rope", x, off, rowStride, rows, heads, positions, table, false);
    }

    /**
     * The backward of {@link #forward}, in place on the gradient: the transpose rotation (by −angle),
     * turning the gradient with respect to the rotated heads into the gradient with respect to the heads
     * before rotation. Same layout and arguments as forward.
     */
    public static void backward(float[] dx, int off, int rowStride, int rows, int heads, int[] positions,
                                RopeTable table) {
        rotate("ropeBackward", dx, off, rowStride, rows, heads, positions, table, true);
    }

    /** Positions of a [B × T] batch of sequences that all start at {@code start}: row b·T + t is at start + t. */
    public static int[] sequencePositions(int B, int T, int start) {
        if (B < 0 || T < 0 || start < 0) {
            throw new IllegalArgumentException("rope positions: B, T and start must be non-negative, got B=" + B
                    + " T=" + T + " start=" + start);
        }
        int[] p = new int[Math.multiplyExact(B, T)];
        for (int i = 0; i < p.length; i++) {
            p[i] = start + i % T;
        }
        return p;
    }

    private static void rotate(String name, float[] x, int off, int rowStride, int rows, int heads, int[] positions,
                               RopeTable table, boolean inverse) {
        int hd = table == null ? 0 : table.headDim();
        String op = name + "(rows=" + rows + ", heads=" + heads + ", head_dim=" + hd + ", rowStride=" + rowStride + ")";
        if (table == null) {
            throw new IllegalArgumentException(op + ": table is null");
        }
        Checks.nonNegative(op, "rows", rows);
        Checks.nonNegative(op, "heads", heads);
        Checks.nonNegative(op, "off", off);
        if (rowStride < (long) heads * hd) {
            throw new IllegalArgumentException(op + ": a row of " + rowStride + " floats cannot hold " + heads
                    + " heads of " + hd);
        }
        if (rows == 0 || heads == 0) {
            return;
        }
        Checks.length(op, "x", x, off + (long) (rows - 1) * rowStride + (long) heads * hd);
        Checks.length(op, "positions", positions, rows);
        for (int r = 0; r < rows; r++) {
            if (positions[r] < 0 || positions[r] >= table.maxPositions()) {
                throw new IllegalArgumentException(op + ": position " + positions[r] + " of row " + r
                        + " is outside the table's 0.." + (table.maxPositions() - 1));
            }
        }
        int half = hd / 2;
        float[] cos = table.cos, sin = table.sin;
        Parallel.forRange(rows, Math.max(1, 8192 / (heads * hd)), (r0, r1) -> {
            FloatVector sign = FloatVector.broadcast(F, inverse ? -1f : 1f);
            for (int r = r0; r < r1; r++) {
                int t = positions[r] * half;
                for (int h = 0; h < heads; h++) {
                    int a = off + r * rowStride + h * hd, b = a + half;
                    int i = 0;
                    for (int ub = F.loopBound(half); i < ub; i += F.length()) {
                        FloatVector xa = FloatVector.fromArray(F, x, a + i), xb = FloatVector.fromArray(F, x, b + i);
                        FloatVector c = FloatVector.fromArray(F, cos, t + i);
                        FloatVector s = FloatVector.fromArray(F, sin, t + i).mul(sign);
                        xa.fma(c, xb.mul(s).neg()).intoArray(x, a + i);
                        xb.fma(c, xa.mul(s)).intoArray(x, b + i);
                    }
                    for (; i < half; i++) {
                        // The same fused operations, so a tail element gets the bits a vector lane would.
                        float xa = x[a + i], xb = x[b + i], c = cos[t + i], s = inverse ? -sin[t + i] : sin[t + i];
                        x[a + i] = Math.fma(xa, c, -(xb * s));
                        x[b + i] = Math.fma(xb, c, xa * s);
                    }
                }
            }
        });
    }
}
