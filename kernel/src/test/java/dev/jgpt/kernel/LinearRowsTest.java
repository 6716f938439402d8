package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Gemm#linearRows}: every row bit-identical to a one-row linearForward, whatever the other rows. */
class LinearRowsTest {
    @Test
    void eachRowIsExactlyItsOwnMatrixVectorProduct() {
        SplittableRandom rng = new SplittableRandom(5);
        // K with and without a vector tail; N with and without a 4-row tail; M odd and even.
        for (int[] shape : new int[][] {{1, 7, 5}, {2, 64, 9}, {3, 131, 33}, {5, 768, 130}, {16, 200, 257}}) {
            int M = shape[0], K = shape[1], N = shape[2];
            float[] x = randn(rng, M * K + 3, 1), w = randn(rng, N * K, 1), b = randn(rng, N, 1);
            float[] out = new float[2 + M * N];
            Arrays.fill(out, Float.NaN);
            Gemm.linearRows(out, 2, x, 3, w, b, M, K, N);
            for (int m = 0; m < M; m++) {
                float[] alone = new float[N];
                Gemm.linearForward(alone, Arrays.copyOfRange(x, 3 + m * K, 3 + (m + 1) * K), w, b, 1, K, N);
                assertBitEqual("row " + m + " of " + Arrays.toString(shape), alone,
                        Arrays.copyOfRange(out, 2 + m * N, 2 + (m + 1) * N));
                for (int n = 0; n < N; n += 17) {   // and it is the product (against a double reference)
                    double ref = b[n];
                    for (int k = 0; k < K; k++) {
                        ref += (double) x[3 + m * K + k] * w[n * K + k];
                    }
                    assertEquals(ref, out[2 + m * N + n], 1e-4 * Math.sqrt(K), "row " + m + " col " + n);
                }
            }
        }
    }

    @Test
    void independentOfTheThreadCount() {
        SplittableRandom rng = new SplittableRandom(6);
        int M = 6, K = 512, N = 1000;
        float[] x = randn(rng, M * K, 1), w = randn(rng, N * K, 1);
        float[] one = new float[M * N], two = new float[M * N];
        withThreads(1, () -> Gemm.linearRows(one, 0, x, 0, w, null, M, K, N));
        withThreads(2, () -> Gemm.linearRows(two, 0, x, 0, w, null, M, K, N));
        assertBitEqual("1 vs 2 threads", one, two);
    }

    @Test
    void badShapesNameTheOp() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linearRows(new float[4], 0, new float[4], 0, new float[4], null, 2, 4, 2));
        assertEquals(true, e.getMessage().startsWith("linearRows"), e.getMessage());
    }
}
