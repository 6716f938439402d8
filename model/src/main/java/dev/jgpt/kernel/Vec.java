package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/** Element-wise vector helpers (SIMD with scalar tails). */
public final class Vec {
    private Vec() {}

    /** y[yOff..] += x[xOff..], n elements. */
    public static void add(float[] y, int yOff, float[] x, int xOff, int n) {
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
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** y += alpha·x, n elements from offset 0. */
    public static void axpy(float alpha, float[] x, float[] y, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, i).fma(va, FloatVector.fromArray(F, y, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] += alpha * x[i];
        }
    }

    /** x *= alpha, n elements. */
    public static void scale(float[] x, float alpha, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(alpha).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] *= alpha;
        }
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int ub = F.loopBound(n); i < ub; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** Σ x², accumulated in double so large tensors do not lose precision. */
    public static double sumSquares(float[] x, int n) {
        double total = 0;
        int i = 0;
        int block = 4096;
        while (i < n) {
            int end = Math.min(n, i + block);
            FloatVector acc = FloatVector.zero(F);
            int j = i;
            for (int ub = i + F.loopBound(end - i); j < ub; j += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, j);
                acc = v.fma(v, acc);
            }
            float s = acc.reduceLanes(VectorOperators.ADD);
            for (; j < end; j++) {
                s += x[j] * x[j];
            }
            total += s;
            i = end;
        }
        return total;
    }
}
