package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/** Token + position embedding: out[b,t,:] = wte[token[b,t],:] + wpe[t,:] (or wpe[position of the row]). */
public final class Embedding {
    private Embedding() {}

    public static void forward(float[] out, int[] tokens, float[] wte, float[] wpe, int B, int T, int C, int V) {
        String op = "embedding(B=" + B + ", T=" + T + ", C=" + C + ", V=" + V + ")";
        Checks.positive(op, "B, T, C, V", B, T, C, V);
        Checks.length(op, "wpe", wpe, (long) T * C);
        forward(op, out, tokens, null, T, wte, wpe, B * T, C, V);
    }

    /**
     * out[r,:] = wte[tokens[r],:] + wpe[positions[r],:] for rows r &lt; rows (inference: new tokens at
     * arbitrary positions); wpe must hold every position used.
     */
    public static void forward(float[] out, int[] tokens, int[] positions, float[] wte, float[] wpe, int rows, int C, int V) {
        String op = "embedding(rows=" + rows + ", C=" + C + ", V=" + V + ")";
        Checks.positive(op, "rows, C, V", rows, C, V);
        Checks.length(op, "positions", positions, rows);
        Checks.length(op, "wpe", wpe, C);
        for (int r = 0; r < rows; r++) {
            if (positions[r] < 0 || (long) (positions[r] + 1) * C > wpe.length) {
                throw new IllegalArgumentException(op + ": position " + positions[r] + " of row " + r
                        + " is outside the " + wpe.length / C + " learned positions");
            }
        }
        forward(op, out, tokens, positions, 0, wte, wpe, rows, C, V);
    }

    /** out[r,:] = wte[tokens[r],:]: token embeddings alone (positions come later, e.g. rotary). */
    public static void tokens(float[] out, int[] tokens, float[] wte, int rows, int C, int V) {
        String op = "embedding(rows=" + rows + ", C=" + C + ", V=" + V + ")";
        Checks.positive(op, "rows, C, V", rows, C, V);
        forward(op, out, tokens, null, 1, wte, null, rows, C, V);
    }

    /** Row r's position is positions[r], or r mod T when positions is null; no position term when wpe is null. */
    private static void forward(String op, float[] out, int[] tokens, int[] positions, int T, float[] wte, float[] wpe,
                                int rows, int C, int V) {
        Checks.length(op, "tokens", tokens, rows);
        Checks.length(op, "out", out, (long) rows * C);
        Checks.length(op, "wte", wte, (long) V * C);
        checkTokens(op, tokens, rows, V);
        Parallel.forRange(rows, Math.max(1, 8192 / C), (s, e) -> {
            for (int r = s; r < e; r++) {
                int w = tokens[r] * C, p = (positions != null ? positions[r] : r % T) * C, o = r * C;
                if (wpe == null) {
                    System.arraycopy(wte, w, out, o, C);
                    continue;
                }
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
     * Scatter-add: dwte[token] += dout, dwpe[t] += dout (dwpe null: no position embedding). Tokens repeat, so rows of dwte may be hit by
     * several positions: the work is split by channel ranges instead, each thread walking every position
     * for its own columns. No two threads touch the same element and every element is summed in
     * position order, so the result does not depend on the thread count.
     */
    public static void backward(float[] dwte, float[] dwpe, float[] dout, int[] tokens, int B, int T, int C) {
        String op = "embeddingBackward(B=" + B + ", T=" + T + ", C=" + C + ")";
        Checks.positive(op, "B, T, C", B, T, C);
        Checks.length(op, "tokens", tokens, (long) B * T);
        Checks.length(op, "dout", dout, (long) B * T * C);
        if (dwpe != null) {
            Checks.length(op, "dwpe", dwpe, (long) T * C);
        }
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
                if (dwpe != null) {
                    Vec.add(dwpe, (bt % T) * C + c0, dout, d, width);
                }
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
