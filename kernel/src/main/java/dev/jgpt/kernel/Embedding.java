package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/** Token + position embedding: out[b,t,:] = wte[token[b,t],:] + wpe[t,:]. */
public final class Embedding {
    private Embedding() {}

    public static void forward(float[] out, int[] tokens, float[] wte, float[] wpe, int B, int T, int C, int V) {
        String op = "embedding(B=" + B + ", T=" + T + ", C=" + C + ", V=" + V + ")";
        Checks.positive(op, "B, T, C, V", B, T, C, V);
        Checks.length(op, "tokens", tokens, (long) B * T);
        Checks.length(op, "out", out, (long) B * T * C);
        Checks.length(op, "wte", wte, (long) V * C);
        Checks.length(op, "wpe", wpe, (long) T * C);
        checkTokens(op, tokens, B * T, V);
        Parallel.forRange(B * T, Math.max(1, 8192 / C), (s, e) -> {
            for (int bt = s; bt < e; bt++) {
                int w = tokens[bt] * C, p = (bt % T) * C, o = bt * C;
                int i = 0;
                for (int ub = F.loopBound(C); i < ub; i += F.length()) {
                    FloatVector.fromArray(F, wte, w + i).add(FloatVector.fromArray(F, wpe, p + i)).intoArray(out, o + i);
                }
                for (; i < C; i++) {
                    out[o + i] = wte[w + i] + wpe[p + i];
                }
            }
        });
    }

    /**
     * Scatter-add: dwte[token] += dout, dwpe[t] += dout. Tokens repeat, so rows of dwte may be hit by
     * several positions: the work is split by channel ranges instead, each thread walking every position
     * for its own columns. No two threads touch the same element and every element is summed in
     * position order, so the result does not depend on the thread count.
     */
    public static void backward(float[] dwte, float[] dwpe, float[] dout, int[] tokens, int B, int T, int C) {
        String op = "embeddingBackward(B=" + B + ", T=" + T + ", C=" + C + ")";
        Checks.positive(op, "B, T, C", B, T, C);
        Checks.length(op, "tokens", tokens, (long) B * T);
        Checks.length(op, "dout", dout, (long) B * T * C);
        Checks.length(op, "dwpe", dwpe, (long) T * C);
        if (dwte == null) {
            throw new IllegalArgumentException(op + ": dwte is null");
        }
        checkTokens(op, tokens, B * T, dwte.length / C);
        int L = F.length();
        int chunks = (C + L - 1) / L;               // channel chunks of one vector
        int minChunks = (long) B * T * C < (1 << 16) ? chunks : 1;
        Parallel.forRange(chunks, minChunks, (s, e) -> {
            int c0 = s * L, c1 = Math.min(C, e * L), width = c1 - c0;
            for (int bt = 0; bt < B * T; bt++) {
                int d = bt * C + c0;
                Vec.add(dwte, tokens[bt] * C + c0, dout, d, width);
                Vec.add(dwpe, (bt % T) * C + c0, dout, d, width);
            }
        });
    }

    private static void checkTokens(String op, int[] tokens, int n, int V) {
        for (int bt = 0; bt < n; bt++) {
            int tok = tokens[bt];
            if (tok < 0 || tok >= V) {
                throw new IllegalArgumentException(op + ": token id " + tok + " at position " + bt
                        + " is outside the vocabulary of " + V);
            }
        }
    }
}
