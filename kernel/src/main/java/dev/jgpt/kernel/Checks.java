package dev.jgpt.kernel;

/** Argument checks shared by the kernels: one clear message naming the operation and the shapes. */
public final class Checks {
    private Checks() {}

    public static void length(String op, String name, float[] a, long needed) {
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (a.length < needed) {
            throw new IllegalArgumentException(op + ": " + name + " has " + a.length
                    + " elements, needs at least " + needed);
        }
    }

    public static void length(String op, String name, int[] a, long needed) {
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (a.length < needed) {
            throw new IllegalArgumentException(op + ": " + name + " has " + a.length
                    + " elements, needs at least " + needed);
        }
    }

    /** Throws unless n ≥ 0 (a zero-length op is a no-op, a negative one a caller bug). */
    public static void nonNegative(String op, String what, int n) {
        if (n < 0) {
            throw new IllegalArgumentException(op + ": " + what + " must be non-negative, got " + n);
        }
    }

    public static void positive(String op, String what, int... dims) {
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException(op + ": " + what + " must be positive, got "
                        + java.util.Arrays.toString(dims));
            }
        }
    }

    static void gemmShapes(String op, boolean transA, boolean transB, int M, int N, int K,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float[] c, int cOff, int ldc) {
        if (M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException(op + ": negative shape M=" + M + " N=" + N + " K=" + K);
        }
        int aRows = transA ? K : M, aCols = transA ? M : K;
        int bRows = transB ? N : K, bCols = transB ? K : N;
        matrix(op, "A", a, aOff, lda, aRows, aCols, M, N, K);
        matrix(op, "B", b, bOff, ldb, bRows, bCols, M, N, K);
        matrix(op, "C", c, cOff, ldc, M, N, M, N, K);
    }

    private static void matrix(String op, String name, float[] x, int off, int ld, int rows, int cols,
                               int M, int N, int K) {
        if (rows == 0 || cols == 0) {
            return;
        }
        if (ld < cols) {
            throw new IllegalArgumentException(op + ": leading dimension of " + name + " is " + ld
                    + " but it has " + cols + " columns (M=" + M + " N=" + N + " K=" + K + ")");
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > x.length) {
            throw new IllegalArgumentException(op + ": " + name + " [" + rows + "×" + cols + ", ld " + ld
                    + ", offset " + off + "] needs " + end + " elements but has " + x.length
                    + " (M=" + M + " N=" + N + " K=" + K + ")");
        }
    }

    /** Throws if any element is NaN or infinite: used where a non-finite value would spread silently. */
    public static void finite(String op, String name, float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) {
            if (!Float.isFinite(a[i])) {
                throw new ArithmeticException(op + ": " + name + "[" + (i - off) + "] is " + a[i]);
            }
        }
    }
}
