package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.jgpt.kernel.Simd.F;

/**
 * AdamW (Loshchilov &amp; Hutter): decoupled weight decay, bias-corrected moments.
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr·(m̂/(√v̂ + ε) + wd·θ), m̂ = m/(1−β1^step),
 * v̂ = v/(1−β2^step). SIMD and parallel; memory-bound (7 floats moved per parameter).
 */
public final class AdamW {
    private AdamW() {}

    /** The fewest elements worth a thread of their own. */
    private static final int CHUNK = 1 << 15;

    /** step is 1-based (the bias correction uses β^step). */
    public static void update(float[] param, float[] grad, float[] m, float[] v, int n, float lr,
                              float beta1, float beta2, float eps, float weightDecay, int step) {
        String op = "adamW(n=" + n + ", step=" + step + ")";
        checkStep(op, step);
        check(op, param, grad, m, v, n);
        Parallel.forRange(n, CHUNK, (s, e) -> range(param, grad, m, v, s, e, lr, beta1, beta2, eps, weightDecay, step));
    }

    /**
     * One step over many tensors at once (a whole model): tensor i is params[i], grads[i], m[i], v[i] (all of
     * params[i].length) with weight decay weightDecay[i]. The threads share all the tensors' elements in one
     * parallel pass, instead of one pass (or a serial loop, for small tensors) per tensor. Each element gets exactly what {@link #update} gives it.
     */
    public static void update(float[][] params, float[][] grads, float[][] m, float[][] v, float[] weightDecay,
                              float lr, float beta1, float beta2, float eps, int step) {
        String op = "adamW(" + params.length + " tensors, step=" + step + ")";
        checkStep(op, step);
        if (grads.length != params.length || m.length != params.length || v.length != params.length
                || weightDecay.length != params.length) {
            throw new IllegalArgumentException(op + ": need as many gradients, moments and decays as tensors, got "
                    + grads.length + ", " + m.length + ", " + v.length + ", " + weightDecay.length);
        }
        int[] first = new int[params.length + 1];   // first[i] = where tensor i starts in all the elements
        for (int i = 0; i < params.length; i++) {
            check(op + " tensor " + i, params[i], grads[i], m[i], v[i], params[i].length);
            first[i + 1] = Math.addExact(first[i], params[i].length);
        }
        // The threads split the elements of all tensors, not the tensors or pieces of them: equal work (a
        // model's tensors differ 500-fold in size), and each element's update is the same wherever a split falls.
        Parallel.forRange(first[params.length], CHUNK, 4, (s, e) -> {
            for (int i = tensorAt(first, s), at = s; at < e; i++) {
                int hi = Math.min(first[i + 1], e);
                if (hi > at) {
                    range(params[i], grads[i], m[i], v[i], at - first[i], hi - first[i], lr, beta1, beta2, eps,
                            weightDecay[i], step);
                    at = hi;
                }
            }
        });
    }

    /** The tensor holding element s of all of them (first as in {@link #update}; empty tensors skipped). */
    private static int tensorAt(int[] first, int s) {
        int i = java.util.Arrays.binarySearch(first, s);
        if (i < 0) {
            return -i - 2;
        }
        while (i + 1 < first.length && first[i + 1] == s) {
            i++;
        }
        return i;
    }

    private static void checkStep(String op, int step) {
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step is 1-based, got " + step);
        }
    }

    private static void check(String op, float[] param, float[] grad, float[] m, float[] v, int n) {
        Checks.nonNegative(op, "n", n);
        Checks.length(op, "param", param, n);
        Checks.length(op, "grad", grad, n);
        Checks.length(op, "m", m, n);
        Checks.length(op, "v", v, n);
    }

    /** The update of elements [s, e). */
    private static void range(float[] param, float[] grad, float[] m, float[] v, int s, int e, float lr,
                              float beta1, float beta2, float eps, float weightDecay, int step) {
        float c1 = (float) (1.0 - Math.pow(beta1, step));
        float c2 = (float) (1.0 - Math.pow(beta2, step));
        float ob1 = 1f - beta1, ob2 = 1f - beta2;
        FloatVector vb1 = FloatVector.broadcast(F, beta1), vb2 = FloatVector.broadcast(F, beta2);
        FloatVector vob1 = FloatVector.broadcast(F, ob1), vob2 = FloatVector.broadcast(F, ob2);
        FloatVector vc1 = FloatVector.broadcast(F, c1), vc2 = FloatVector.broadcast(F, c2);
        FloatVector veps = FloatVector.broadcast(F, eps), vwd = FloatVector.broadcast(F, weightDecay);
        FloatVector vlr = FloatVector.broadcast(F, lr);
        int i = s;
        for (int ub = s + F.loopBound(e - s); i < ub; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, grad, i);
            FloatVector mi = vb1.mul(FloatVector.fromArray(F, m, i)).add(vob1.mul(g));
            FloatVector vi = vb2.mul(FloatVector.fromArray(F, v, i)).add(vob2.mul(g).mul(g));
            mi.intoArray(m, i);
            vi.intoArray(v, i);
            FloatVector mhat = mi.div(vc1), vhat = vi.div(vc2);
            FloatVector p = FloatVector.fromArray(F, param, i);
            FloatVector upd = mhat.div(vhat.lanewise(VectorOperators.SQRT).add(veps)).add(vwd.mul(p));
            p.sub(vlr.mul(upd)).intoArray(param, i);
        }
        // The same operations in the same order as a lane above, so where a piece ends does not matter.
        for (; i < e; i++) {
            float g = grad[i];
            float mi = beta1 * m[i] + ob1 * g;
            float vi = beta2 * v[i] + ob2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float mhat = mi / c1, vhat = vi / c2;
            param[i] -= lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * param[i]);
        }
    }
}
