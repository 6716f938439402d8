package dev.jgpt.kernel;

/** GELU, tanh form (GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
public final class Gelu {
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    private Gelu() {}

    public static void forward(float[] out, float[] x, int n) {
        Parallel.forRange(n, 1 << 14, (s, e) -> {
            for (int i = s; i < e; i++) {
                float v = x[i];
                float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
                out[i] = 0.5f * v * (1f + (float) Math.tanh(u));
            }
        });
    }

    /** dx += GELU'(x)·dout. */
    public static void backward(float[] dx, float[] x, float[] dout, int n) {
        Parallel.forRange(n, 1 << 14, (s, e) -> {
            for (int i = s; i < e; i++) {
                float v = x[i];
                float u = SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
                float t = (float) Math.tanh(u);
                float sech2 = 1f - t * t;
                float grad = 0.5f * (1f + t) + 0.5f * v * sech2 * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
                dx[i] += grad * dout[i];
            }
        });
    }
}
