package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.Simd.F;
import static dev.jgpt.kernel.Simd.LANES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reproducible lane sum and exp against their scalar definitions. */
class SimdTest {
    @Test
    void sumIsTheFixedPairwiseTree() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int trial = 0; trial < 1000; trial++) {
            float[] a = new float[LANES];
            for (int i = 0; i < LANES; i++) {
                a[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-6, 7)));
            }
            float[] t = a.clone();   // the same tree in scalar code: lane i += lane i ^ half, halving
            for (int half = LANES / 2; half >= 1; half /= 2) {
                float[] next = new float[LANES];
                for (int i = 0; i < LANES; i++) {
                    next[i] = t[i] + t[i ^ half];
                }
                t = next;
            }
            assertEquals(Float.floatToRawIntBits(t[0]), Float.floatToRawIntBits(Simd.sum(FloatVector.fromArray(F, a, 0))));
        }
    }

    @Test
    void expIsWithinTwoUlpAndHandlesTheEdges() {
        float[] x = new float[LANES];
        float[] y = new float[LANES];
        for (float v = -87.3f; v <= 88f; v += 0.00731f) {
            for (int i = 0; i < LANES; i++) {
                x[i] = v + i * 1e-4f;
            }
            Simd.exp(FloatVector.fromArray(F, x, 0)).intoArray(y, 0);
            for (int i = 0; i < LANES; i++) {
                double want = Math.exp(x[i]);
                assertTrue(Math.abs(y[i] - want) <= 2 * Math.ulp((float) want), () -> "exp mismatch");
            }
        }
        float[] edges = {Float.NEGATIVE_INFINITY, -1000f, -87.5f, 0f, -0f, Float.NaN, 1f, -1f};
        float[] in = new float[LANES];
        for (int i = 0; i < LANES; i++) {
            in[i] = edges[i % edges.length];
        }
        Simd.exp(FloatVector.fromArray(F, in, 0)).intoArray(y, 0);
        for (int i = 0; i < LANES; i++) {
            float e = in[i];
            if (Float.isNaN(e)) {
                assertTrue(Float.isNaN(y[i]), "NaN in, NaN out");
            } else if (e < -87.34f) {
                assertEquals(0f, y[i], "underflows to exactly 0: " + e);
            } else {
                assertEquals(Math.exp(e), y[i], 2 * Math.ulp((float) Math.exp(e)), "exp(" + e + ")");
            }
        }
        assertEquals(1f, y[3], 0f, "exp(0) is exactly 1");
    }
}
