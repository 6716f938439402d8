package dev.jgpt.kernel;

/**
 * Causal multi-head self-attention over a packed qkv tensor [B, T, 3C] (q, k, v each C = NH·hs wide).
 * Forward writes out [B, T, C] and the attention probabilities att [B, NH, T, T] (needed by backward).
 */
public final class Attention {
    private Attention() {}

    public static void forward(float[] out, float[] att, float[] qkv, int B, int T, int C, int NH) {
        check("attention", qkv, out, att, B, T, C, NH);
        int hs = C / NH;
        float scale = (float) (1.0 / Math.sqrt(hs));
        Parallel.forRange(B * NH, 1, (s, e) -> {
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH;
                for (int t = 0; t < T; t++) {
                    int q = (b * T + t) * 3 * C + h * hs;
                    int a = (bh * T + t) * T;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 <= t; t2++) {
                        int k = (b * T + t2) * 3 * C + C + h * hs;
                        float v = Vec.dot(qkv, q, qkv, k, hs) * scale;
                        att[a + t2] = v;
                        max = Math.max(max, v);
                    }
                    float sum = 0f;
                    for (int t2 = 0; t2 <= t; t2++) {
                        float ev = (float) Math.exp(att[a + t2] - max);
                        att[a + t2] = ev;
                        sum += ev;
                    }
                    float inv = 1f / sum;
                    for (int t2 = 0; t2 < T; t2++) {
                        att[a + t2] = t2 <= t ? att[a + t2] * inv : 0f;
                    }
                    int o = (b * T + t) * C + h * hs;
                    java.util.Arrays.fill(out, o, o + hs, 0f);
                    for (int t2 = 0; t2 <= t; t2++) {
                        int v = (b * T + t2) * 3 * C + 2 * C + h * hs;
                        float p = att[a + t2];
                        for (int i = 0; i < hs; i++) {
                            out[o + i] += p * qkv[v + i];
                        }
                    }
                }
            }
        });
    }

    /** Accumulates dqkv. datt is scratch of size T (per thread it is allocated here). */
    public static void backward(float[] dqkv, float[] dout, float[] qkv, float[] att, int B, int T, int C, int NH) {
        int hs = C / NH;
        float scale = (float) (1.0 / Math.sqrt(hs));
        Parallel.forRange(B * NH, 1, (s, e) -> {
            float[] datt = new float[T];
            for (int bh = s; bh < e; bh++) {
                int b = bh / NH, h = bh % NH;
                for (int t = 0; t < T; t++) {
                    int a = (bh * T + t) * T;
                    int o = (b * T + t) * C + h * hs;
                    int q = (b * T + t) * 3 * C + h * hs;
                    // d(att) and dv
                    for (int t2 = 0; t2 <= t; t2++) {
                        int v = (b * T + t2) * 3 * C + 2 * C + h * hs;
                        datt[t2] = Vec.dot(dout, o, qkv, v, hs);
                        float p = att[a + t2];
                        for (int i = 0; i < hs; i++) {
                            dqkv[v + i] += p * dout[o + i];
                        }
                    }
                    // softmax backward: dpre = p·(datt − Σ p·datt)
                    float dot = 0f;
                    for (int t2 = 0; t2 <= t; t2++) {
                        dot += att[a + t2] * datt[t2];
                    }
                    for (int t2 = 0; t2 <= t; t2++) {
                        float dpre = att[a + t2] * (datt[t2] - dot) * scale;
                        int k = (b * T + t2) * 3 * C + C + h * hs;
                        for (int i = 0; i < hs; i++) {
                            dqkv[q + i] += dpre * qkv[k + i];
                            dqkv[k + i] += dpre * qkv[q + i];
                        }
                    }
                }
            }
        });
    }

    private static void check(String op, float[] qkv, float[] out, float[] att, int B, int T, int C, int NH) {
        Checks.positive(op, "B, T, C, NH", B, T, C, NH);
        if (C % NH != 0) {
            throw new IllegalArgumentException(op + ": C=" + C + " is not divisible by NH=" + NH);
        }
        Checks.length(op, "qkv", qkv, 3L * B * T * C);
        Checks.length(op, "out", out, (long) B * T * C);
        Checks.length(op, "att", att, (long) B * NH * T * T);
    }
}
