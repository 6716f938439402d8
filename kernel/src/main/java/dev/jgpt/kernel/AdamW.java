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

    /** step is 1-based (the bias correction uses β^step). */
    public static void update(float[] param, float[] grad, float[] m, float[] v, int n, float lr,
                              float beta1, float beta2, float eps, float weightDecay, int step) {
        String op = "adamW(n=" + n + ", step=" + step + ")";
        Checks.nonNegative(op, "n", n);
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step is 1-based, got " + step);
        }
        Checks.length(op, "param", param, n);
        Checks.length(op, "grad", grad, n);
        Checks.length(op, "m", m, n);
        Checks.length(op, "v", v, n);
        float c1 = (float) (1.0 - Math.pow(beta1, step));
        float c2 = (float) (1.0 - Math.pow(beta2, step));
        float ob1 = 1f - beta1, ob2 = 1f - beta2;
        Parallel.forRange(n, 1 << 15, (s, e) -> {
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
            for (; i < e; i++) {
                float g = grad[i];
                float mi = beta1 * m[i] + ob1 * g;
                float vi = beta2 * v[i] + ob2 * g * g;
                m[i] = mi;
                v[i] = vi;
                float mhat = mi / c1, vhat = vi / c2;
                param[i] -= lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * param[i]);
            }
        });
    }
}
