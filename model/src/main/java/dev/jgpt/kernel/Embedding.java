package dev.jgpt.kernel;

/** Token + position embedding: out[b,t,:] = wte[token[b,t],:] + wpe[t,:]. */
public final class Embedding {
    private Embedding() {}

    public static void forward(float[] out, int[] tokens, float[] wte, float[] wpe, int B, int T, int C, int V) {
        for (int bt = 0; bt < B * T; bt++) {
            int tok = tokens[bt];
            if (tok < 0 || tok >= V) {
                throw new IllegalArgumentException("embedding: token id " + tok + " at position " + bt
                        + " is outside the vocabulary of " + V);
            }
            int t = bt % T;
            for (int i = 0; i < C; i++) {
                out[bt * C + i] = wte[tok * C + i] + wpe[t * C + i];
            }
        }
    }

    /** Scatter-add: dwte[token] += dout, dwpe[t] += dout. */
    public static void backward(float[] dwte, float[] dwpe, float[] dout, int[] tokens, int B, int T, int C) {
        for (int bt = 0; bt < B * T; bt++) {
            int t = bt % T;
            Vec.add(dwte, tokens[bt] * C, dout, bt * C, C);
            Vec.add(dwpe, t * C, dout, bt * C, C);
        }
    }
}
