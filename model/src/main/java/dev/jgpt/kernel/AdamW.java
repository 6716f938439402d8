package dev.jgpt.kernel;

/**
 * AdamW (Loshchilov &amp; Hutter): decoupled weight decay, bias-corrected moments.
 * θ ← θ − lr·(m̂/(√v̂ + ε) + wd·θ).
 */
public final class AdamW {
    private AdamW() {}

    /** step is 1-based (the bias correction uses β^step). */
    public static void update(float[] param, float[] grad, float[] m, float[] v, int n, float lr,
                              float beta1, float beta2, float eps, float weightDecay, int step) {
        float c1 = (float) (1.0 - Math.pow(beta1, step));
        float c2 = (float) (1.0 - Math.pow(beta2, step));
        Parallel.forRange(n, 1 << 15, (s, e) -> {
            for (int i = s; i < e; i++) {
                float g = grad[i];
                float mi = beta1 * m[i] + (1f - beta1) * g;
                float vi = beta2 * v[i] + (1f - beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                float mhat = mi / c1, vhat = vi / c2;
                param[i] -= lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * param[i]);
            }
        });
    }
}
