package dev.jgpt.kernel;

/**
 * Layer normalisation over the last dimension C of a [rows × C] matrix:
 * y = (x − μ)·rstd·γ + β, rstd = 1/√(σ² + ε). Forward saves μ and rstd per row for backward.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /** beta may be null (no bias). */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] x, float[] gamma, float[] beta,
                               int rows, int C, float eps) {
        Checks.length("layerNorm", "x", x, (long) rows * C);
        Checks.length("layerNorm", "out", out, (long) rows * C);
        Checks.length("layerNorm", "gamma", gamma, C);
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * C;
                float m = 0f;
                for (int i = 0; i < C; i++) {
                    m += x[o + i];
                }
                m /= C;
                float v = 0f;
                for (int i = 0; i < C; i++) {
                    float d = x[o + i] - m;
                    v += d * d;
                }
                v /= C;
                float s = (float) (1.0 / Math.sqrt(v + eps));
                for (int i = 0; i < C; i++) {
                    float n = (x[o + i] - m) * s;
                    out[o + i] = n * gamma[i] + (beta != null ? beta[i] : 0f);
                }
                mean[r] = m;
                rstd[r] = s;
            }
        });
    }

    /** Accumulates dx, dgamma, dbeta (dbeta may be null). */
    public static void backward(float[] dx, float[] dgamma, float[] dbeta, float[] dout, float[] x, float[] gamma,
                                float[] mean, float[] rstd, int rows, int C) {
        for (int r = 0; r < rows; r++) {
            int o = r * C;
            float m = mean[r], s = rstd[r];
            float dnormMean = 0f, dnormNormMean = 0f;
            for (int i = 0; i < C; i++) {
                float n = (x[o + i] - m) * s;
                float dn = gamma[i] * dout[o + i];
                dnormMean += dn;
                dnormNormMean += dn * n;
            }
            dnormMean /= C;
            dnormNormMean /= C;
            for (int i = 0; i < C; i++) {
                float n = (x[o + i] - m) * s;
                float dn = gamma[i] * dout[o + i];
                if (dbeta != null) {
                    dbeta[i] += dout[o + i];
                }
                dgamma[i] += n * dout[o + i];
                dx[o + i] += (dn - dnormMean - n * dnormNormMean) * s;
            }
        }
    }
}
