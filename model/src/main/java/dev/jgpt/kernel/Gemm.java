package dev.jgpt.kernel;

/**
 * Single-precision matrix multiply, row-major with leading dimensions:
 * {@code C[M×N] = (accumulate ? C : 0) + op(A)·op(B)}, op(X) = X or Xᵀ.
 * The three transformer layouts are thin wrappers: {@link #linearForward} (y = x·Wᵀ + b),
 * and {@link #linearBackward} (dX += dY·W, dW += dYᵀ·X, db += Σ dY).
 */
public final class Gemm {
    private Gemm() {}

    public static void gemm(boolean transA, boolean transB, int M, int N, int K,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        Checks.gemmShapes("gemm", transA, transB, M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        Parallel.forRange(M, 4, (m0, m1) -> {
            for (int i = m0; i < m1; i++) {
                for (int j = 0; j < N; j++) {
                    float s = 0f;
                    for (int k = 0; k < K; k++) {
                        float av = transA ? a[aOff + k * lda + i] : a[aOff + i * lda + k];
                        float bv = transB ? b[bOff + j * ldb + k] : b[bOff + k * ldb + j];
                        s += av * bv;
                    }
                    int ci = cOff + i * ldc + j;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
        });
    }

    /** out[M×N] = x[M×K]·w[N×K]ᵀ + bias[N] (bias may be null). PyTorch Linear layout. */
    public static void linearForward(float[] out, float[] x, float[] w, float[] bias, int M, int K, int N) {
        Checks.length("linearForward", "x", x, (long) M * K);
        Checks.length("linearForward", "w", w, (long) N * K);
        Checks.length("linearForward", "out", out, (long) M * N);
        if (bias != null) {
            Checks.length("linearForward", "bias", bias, N);
        }
        gemm(false, true, M, N, K, x, 0, K, w, 0, K, out, 0, N, false);
        if (bias != null) {
            for (int i = 0; i < M; i++) {
                Vec.add(out, i * N, bias, 0, N);
            }
        }
    }

    /**
     * Backward of {@link #linearForward}, accumulating: dx += dy·w, dw += dyᵀ·x, dbias += Σ rows of dy.
     * Any of dx, dw, dbias may be null to skip it.
     */
    public static void linearBackward(float[] dx, float[] dw, float[] dbias, float[] dy, float[] x, float[] w,
                                      int M, int K, int N) {
        Checks.length("linearBackward", "dy", dy, (long) M * N);
        if (dx != null) {
            gemm(false, false, M, K, N, dy, 0, N, w, 0, K, dx, 0, K, true);
        }
        if (dw != null) {
            gemm(true, false, N, K, M, dy, 0, N, x, 0, K, dw, 0, K, true);
        }
        if (dbias != null) {
            for (int i = 0; i < M; i++) {
                Vec.add(dbias, 0, dy, i * N, N);
            }
        }
    }
}
