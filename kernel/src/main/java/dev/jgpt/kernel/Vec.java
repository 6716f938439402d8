package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/**
 * Element-wise and reduction helpers (SIMD with scalar tails). The whole-tensor helpers
 * ({@link #add(float[], float[], float[], int)}, {@link #add(float[], int, float[], int, int)} for large n)
 * split across {@link Parallel} threads; the per-row helpers used inside other kernels do not.
 */
public final class Vec {
    /** Below this many elements a whole-tensor op stays on the calling thread (threading costs microseconds). */
    static final int PARALLEL_MIN = 1 << 16;
    /** Reductions add float partial sums of this many elements into a double, so long sums keep their digits. */
    private static final int BLOCK = 4096;

    private Vec() {}

    /** y[yOff..] += x[xOff..], n elements. */
    public static void add(float[] y, int yOff, float[] x, int xOff, int n) {
        if (n >= PARALLEL_MIN) {
            Parallel.forRange(n, PARALLEL_MIN / 2, (s, e) -> addSerial(y, yOff + s, x, xOff + s, e - s));
        } else {
            addSerial(y, yOff, x, xOff, n);
        }
    }

    private static void addSerial(float[] y, int yOff, float[] x, int xOff, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, y, yOff + i).add(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /** out = a + b (the residual add), n elements. */
    public static void add(float[] out, float[] a, float[] b, int n) {
        Checks.length("residualAdd", "a", a, n);
        Checks.length("residualAdd", "b", b, n);
        Checks.length("residualAdd", "out", out, n);
        Parallel.forRange(n, PARALLEL_MIN / 2, (s, e) -> {
            int i = s;
            for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
                FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < e; i++) {
                out[i] = a[i] + b[i];
            }
        });
    }

    /** x[0..n) = 0, split across threads when large (activation gradients are zeroed every step). */
    public static void zero(float[] x, int n) {
        Checks.length("zero", "x", x, n);
        if (n >= PARALLEL_MIN) {
            Parallel.forRange(n, PARALLEL_MIN / 2, (s, e) -> java.util.Arrays.fill(x, s, e, 0f));
        } else {
            java.util.Arrays.fill(x, 0, n, 0f);
        }
    }

    /** y += alpha·x, n elements from offset 0. */
    public static void axpy(float alpha, float[] x, float[] y, int n) {
        axpy(alpha, x, 0, y, 0, n);
    }

    /** y[yOff..] += alpha·x[xOff..], n elements. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);   // same rounding as the vector body
        }
    }

    /** x *= alpha, n elements. */
    public static void scale(float[] x, float alpha, int n) {
        scale(x, 0, alpha, n);
    }

    /** x[off..] *= alpha, n elements. */
    public static void scale(float[] x, int off, float alpha, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(alpha).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= alpha;
        }
    }

    /** Σ a·b over n elements; long sums are accumulated in double per block (see {@link #BLOCK}). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (n <= BLOCK) {
            return dotBlock(a, aOff, b, bOff, n);
        }
        double total = 0;
        for (int i = 0; i < n; i += BLOCK) {
            total += dotBlock(a, aOff + i, b, bOff + i, Math.min(BLOCK, n - i));
        }
        return (float) total;
    }

    private static float dotBlock(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = Simd.sum(acc);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** Σ x², accumulated in double so large tensors do not lose precision. */
    public static double sumSquares(float[] x, int n) {
        return sumSquares(x, 0, n);
    }

    /** Σ x[off..off+n)², float partial sums per block added in double. */
    public static double sumSquares(float[] x, int off, int n) {
        double total = 0;
        for (int i = 0; i < n; i += BLOCK) {
            int end = Math.min(n, i + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            int j = i;
            for (int ub = i + F.loopBound(end - i); j < ub; j += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, off + j);
                acc = v.fma(v, acc);
            }
            float s = Simd.sum(acc);
            for (; j < end; j++) {
                s += x[off + j] * x[off + j];
            }
            total += s;
        }
        return total;
    }

    /** Σ x[off..off+n) in float (lane-wise partial sums, so error grows like n/LANES, not n). */
    public static float sum(float[] x, int off, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            acc = acc.add(FloatVector.fromArray(F, x, off + i));
        }
        float s = Simd.sum(acc);
        for (; i < n; i++) {
            s += x[off + i];
        }
        return s;
    }

    /** max of x[off..off+n), n ≥ 1; NaN if any element is NaN. */
    public static float max(float[] x, int off, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            acc = acc.max(FloatVector.fromArray(F, x, off + i));
        }
        if (i < n) {
            // Masked tail: lanes past n keep −∞ (no scalar loop, which costs as much as the vectors for short rows).
            VectorMask<Float> m = F.indexInRange(i, n);
            acc = acc.max(FloatVector.fromArray(F, x, off + i, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    /**
     * dst[dOff+i] = exp(src[sOff+i] − shift) for i &lt; n and returns their sum in double (float partial
     * sums per block). dst may equal src. The exponent is {@link Simd#exp} (≤ 2 ulp, reproducible); the tail is a
     * masked vector, not a scalar loop.
     */
    static double expShiftSum(float[] dst, int dOff, float[] src, int sOff, int n, float shift) {
        double total = 0;
        FloatVector vs = FloatVector.broadcast(F, shift);
        for (int i = 0; i < n; i += BLOCK) {
            int end = Math.min(n, i + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            for (int j = i; j < end; j += F.length()) {
                // One copy of Simd.exp, masked (all lanes but in the tail): with a second copy for the
                // tail C2 ran out of nodes (NodeCountInliningCutoff) and boxed the vector of Simd.sum.
                VectorMask<Float> m = F.indexInRange(j, end);
                FloatVector e = Simd.exp(FloatVector.fromArray(F, src, sOff + j, m).sub(vs));
                e.intoArray(dst, dOff + j, m);
                acc = acc.add(e, m);
            }
            total += Simd.sum(acc);
        }
        return total;
    }

    /** Like {@link #expShiftSum} but only returns the sum (nothing is written). */
    static double expShiftSum(float[] src, int sOff, int n, float shift) {
        double total = 0;
        FloatVector vs = FloatVector.broadcast(F, shift);
        for (int i = 0; i < n; i += BLOCK) {
            int end = Math.min(n, i + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            for (int j = i; j < end; j += F.length()) {   // one masked copy of Simd.exp, as above
                VectorMask<Float> m = F.indexInRange(j, end);
                acc = acc.add(Simd.exp(FloatVector.fromArray(F, src, sOff + j, m).sub(vs)), m);
            }
            total += Simd.sum(acc);
        }
        return total;
    }

    /**
     * In-place numerically stable softmax of x[off..off+n), n ≥ 1: subtracts the max before exp, so
     * large logits do not overflow. NaN in, NaN out.
     */
    static void softmaxInPlace(float[] x, int off, int n) {
        float max = max(x, off, n);
        double sum = expShiftSum(x, off, x, off, n, max);
        scale(x, off, (float) (1.0 / sum), n);
    }
}
