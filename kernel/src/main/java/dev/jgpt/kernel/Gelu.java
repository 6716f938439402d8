package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/**
 * GELU, tanh form (GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * <p>Computed through the identity 0.5·(1 + tanh(u)) = σ(2u), so one vector exp ({@link Simd#exp}) serves both directions
 * and nothing cancels. The sigmoid is taken in its overflow-free form: with z = e^(−|2u|) ∈ (0, 1] and
 * r = 1/(1 + z), σ(2u) = r for u ≥ 0 and z·r for u &lt; 0, and σ(1−σ) = z·r² either way. Then
 * GELU(x) = x·σ and GELU'(x) = σ + 2·√(2/π)·x·(1 + 3·0.044715·x²)·σ(1−σ). For x ≪ 0, z underflows to 0
 * and GELU, GELU' are exactly 0; x is clamped to ±1e4 inside the second (then zero) term so it never
 * becomes 0·∞. (Measured on the Vector API's forms: vector EXP ≈0.22 ns/element, vector TANH ≈0.41, scalar Math.exp ≈3.2.)
 */
public final class Gelu {
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    static final float COEF = 0.044715f;
    private static final float X_CLAMP = 1e4f;
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f), C3 = FloatVector.broadcast(F, 3f * COEF);

    private Gelu() {}

    public static void forward(float[] out, float[] x, int n) {
        check("gelu", out, x, null, n);
        Parallel.forRange(n, 1 << 15, (s, e) -> {
            int i = s;
            for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
                gelu(FloatVector.fromArray(F, x, i)).intoArray(out, i);
            }
            for (; i < e; i++) {
                out[i] = gelu(x[i]);
            }
        });
    }

    /** dx += GELU'(x)·dout. */
    public static void backward(float[] dx, float[] x, float[] dout, int n) {
        check("geluBackward", dx, x, dout, n);
        Parallel.forRange(n, 1 << 15, (s, e) -> {
            int i = s;
            for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
                geluGrad(FloatVector.fromArray(F, x, i))
                        .fma(FloatVector.fromArray(F, dout, i), FloatVector.fromArray(F, dx, i)).intoArray(dx, i);
            }
            for (; i < e; i++) {
                dx[i] += geluGrad(x[i]) * dout[i];
            }
        });
    }

    /**
     * The first half of the MLP with the GELU fused into the product: for h = x·Wᵀ + b (x [M×K], W [N×K],
     * b [N] or null), a = GELU(h) and d = GELU'(h), both [M×N]. Each block of h is made in d's place and
     * turned into both as soon as it is final, while it is in cache: one e^(−2|u|) and one division serve
     * both, and the backward ({@link #backwardThroughLinear}) needs only d. a and d are exactly
     * {@link #gelu(FloatVector)} and {@link #geluGrad(FloatVector)} of h.
     */
    public static void forwardOfLinear(float[] a, float[] d, float[] x, float[] w, float[] bias, int M, int K, int N) {
        Checks.length("geluForwardOfLinear", "a", a, (long) M * N);
        Gemm.linearForwardThen(d, x, w, bias, M, K, N, (c, ci, ldc, row, col, rows, cols) -> {
            for (int r = 0; r < rows; r++) {
                int o = ci + r * ldc, ao = (row + r) * N + col, j = 0;
                // Whole vectors unmasked, the rest apart: with a mask on every vector C2 reached its node limit
                // before inlining grad, which then boxed its vectors on every call (2-3 ms of a baby step).
                for (int ub = F.loopBound(cols); j < ub; j += F.length()) {
                    FloatVector h = Gemm.plusBias(FloatVector.fromArray(F, c, o + j), bias, col + j);
                    FloatVector u = u(h), z = z(u), rz = ONE.div(z.add(ONE)), sig = sigma(u, z, rz);
                    h.mul(sig).intoArray(a, ao + j);
                    grad(h, z, rz, sig).intoArray(c, o + j);
                }
                if (j < cols) {
                    forwardTail(a, ao + j, c, o + j, bias, col + j, F.indexInRange(j, cols));
                }
            }
        });
    }

    /** The last, partial vector of a row of {@link #forwardOfLinear}'s epilogue: the same lane-wise values. */
    private static void forwardTail(float[] a, int ao, float[] c, int o, float[] bias, int bo, VectorMask<Float> m) {
        FloatVector h = FloatVector.fromArray(F, c, o, m);
        if (bias != null) {
            h = h.add(FloatVector.fromArray(F, bias, bo, m));
        }
        FloatVector u = u(h), z = z(u), rz = ONE.div(z.add(ONE)), sig = sigma(u, z, rz);
        h.mul(sig).intoArray(a, ao, m);
        grad(h, z, rz, sig).intoArray(c, o, m);
    }

    /**
     * Backward of y = GELU(h)·Wᵀ + b (the MLP's second half) with the GELU's backward fused into the
     * product dy·W: dh = d ⊙ (dy·W) with d = GELU'(h) from {@link #forwardOfLinear}, overwritten (d, dh
     * [M×K], W [N×K], dy [M×N]); and, as {@link Gemm#linearBackward}, dW += dyᵀ·a with a = GELU(h) the
     * forward's activations, db += Σ rows of dy (db may be null). Each block of dy·W is multiplied by d as
     * soon as it is final.
     */
    public static void backwardThroughLinear(float[] dh, float[] dw, float[] dbias, float[] dy, float[] d, float[] a,
                                             float[] w, int M, int K, int N) {
        backwardThroughLinear(dh, dw, true, dbias, dy, d, a, w, M, K, N);
    }

    /** {@link #backwardThroughLinear} with dW = dyᵀ·a SET instead if {@code !accumulateDw} (see {@link Gemm#linearBackward}). */
    public static void backwardThroughLinear(float[] dh, float[] dw, boolean accumulateDw, float[] dbias, float[] dy,
                                             float[] d, float[] a, float[] w, int M, int K, int N) {
        Checks.length("geluBackwardThroughLinear", "d", d, (long) M * K);
        Gemm.linearBackward(dh, false, (c, ci, ldc, row, col, rows, cols) -> {
            for (int r = 0; r < rows; r++) {
                int o = ci + r * ldc, dOff = (row + r) * K + col, j = 0;
                for (int ub = F.loopBound(cols); j < ub; j += F.length()) {
                    FloatVector.fromArray(F, d, dOff + j).mul(FloatVector.fromArray(F, c, o + j)).intoArray(c, o + j);
                }
                if (j < cols) {
                    VectorMask<Float> m = F.indexInRange(j, cols);
                    FloatVector.fromArray(F, d, dOff + j, m).mul(FloatVector.fromArray(F, c, o + j, m)).intoArray(c, o + j, m);
                }
            }
        }, dw, accumulateDw, dbias, dy, a, w, M, K, N);
    }

    /** GELU of each lane: x·σ(2u), u = √(2/π)·(x + 0.044715·x³), σ in its overflow-free form (class note). */
    static FloatVector gelu(FloatVector v) {
        FloatVector u = u(v), z = z(u), r = ONE.div(z.add(ONE));
        return v.mul(sigma(u, z, r));
    }

    /** GELU'(x) of each lane (class note). */
    static FloatVector geluGrad(FloatVector v) {
        FloatVector u = u(v), z = z(u), r = ONE.div(z.add(ONE));
        return grad(v, z, r, sigma(u, z, r));
    }

    /** u = √(2/π)·(x + 0.044715·x³). */
    private static FloatVector u(FloatVector v) {
        return v.mul(v).fma(COEF, 1f).mul(v).mul(SQRT_2_OVER_PI);
    }

    /** z = e^(−2|u|) ∈ (0, 1]. */
    private static FloatVector z(FloatVector u) {
        return Simd.exp(u.abs().mul(-2f));
    }

    /** σ(2u) from z and r = 1/(1 + z): r for u ≥ 0, z·r below. */
    private static FloatVector sigma(FloatVector u, FloatVector z, FloatVector r) {
        return z.mul(r).blend(r, u.compare(VectorOperators.GE, 0f));
    }

    /** GELU'(x) = σ + 2·√(2/π)·x·(1 + 3·0.044715·x²)·σ(1−σ), with σ(1−σ) = z·r² and x clamped to ±1e4 there. */
    private static FloatVector grad(FloatVector v, FloatVector z, FloatVector r, FloatVector sig) {
        FloatVector xc = Simd.clamp(v, -X_CLAMP, X_CLAMP);
        FloatVector du = xc.mul(xc).fma(C3, ONE).mul(xc).mul(2f * SQRT_2_OVER_PI);
        return du.fma(z.mul(r).mul(r), sig);
    }

    /** Scalar GELU with the same formula as the vector path (used for tails and single values). */
    public static float gelu(float x) {
        float u = SQRT_2_OVER_PI * (x * (1f + COEF * x * x));
        float z = (float) Math.exp(-2f * Math.abs(u));
        float r = 1f / (1f + z);
        return x * (u >= 0f ? r : z * r);
    }

    /** Scalar GELU'(x), same formula as the vector path. */
    public static float geluGrad(float x) {
        float u = SQRT_2_OVER_PI * (x * (1f + COEF * x * x));
        float z = (float) Math.exp(-2f * Math.abs(u));
        float r = 1f / (1f + z);
        float sig = u >= 0f ? r : z * r;
        float xc = Math.max(-X_CLAMP, Math.min(X_CLAMP, x));
        return sig + 2f * SQRT_2_OVER_PI * xc * (1f + 3f * COEF * xc * xc) * (z * r * r);
    }

    private static void check(String op, float[] out, float[] x, float[] dout, int n) {
        Checks.nonNegative(op, "n", n);
        Checks.length(op, "x", x, n);
        Checks.length(op, op.equals("gelu") ? "out" : "dx", out, n);
        if (dout != null) {
            Checks.length(op, "dout", dout, n);
        }
    }
}
