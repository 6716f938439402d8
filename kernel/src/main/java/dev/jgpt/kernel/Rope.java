package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

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
 * <p>Element-wise (fused multiply-adds, masked vector tails for head sizes that are not a multiple of
 * the vector length), so the result does not depend on the thread count. Parallel over rows.
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
            for (int r = r0; r < r1; r++) {
                int t = positions[r] * half;
                for (int h = 0; h < heads; h++) {
                    int a = off + r * rowStride + h * hd, b = a + half;
                    int i = 0;
                    for (int ub = F.loopBound(half); i < ub; i += F.length()) {
                        turn(x, a + i, b + i, cos, sin, t + i, inverse, F.maskAll(true));
                    }
                    if (i < half) {
                        turn(x, a + i, b + i, cos, sin, t + i, inverse, F.indexInRange(i, half));
                    }
                }
            }
        });
    }

    /** (x_a, x_b) ← (x_a·c − x_b·s, x_b·c + x_a·s), with s negated for the inverse rotation. */
    private static void turn(float[] x, int a, int b, float[] cos, float[] sin, int t, boolean inverse,
                             VectorMask<Float> m) {
        FloatVector xa = FloatVector.fromArray(F, x, a, m), xb = FloatVector.fromArray(F, x, b, m);
        FloatVector c = FloatVector.fromArray(F, cos, t, m), s = FloatVector.fromArray(F, sin, t, m);
        if (inverse) {
            s = s.neg();
        }
        xa.fma(c, xb.mul(s).neg()).intoArray(x, a, m);
        xb.fma(c, xa.mul(s)).intoArray(x, b, m);
    }
}
