package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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

    /**
     * exp clamps its input by compare and blend; Cephes' form clamps with min and max. Both give the same bits
     * for every float (checked for all 2³² once; here a stride through them, every sign and exponent, and the
     * edges), so results computed before the change stand.
     */
    @Test
    void expClampsAsMinAndMaxWould() {
        float[] x = new float[LANES], got = new float[LANES], want = new float[LANES];
        float[] edges = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 88f, Math.nextUp(88f),
                -87.33654475f, Math.nextDown(-87.33654475f), Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE,
                -Float.MIN_VALUE, 1f, -1f, Float.intBitsToFloat(0x7fc00001)};
        for (long bits = -edges.length; bits < (1L << 32); bits += bits < 0 ? LANES : 4099L * LANES) {
            for (int i = 0; i < LANES; i++) {
                x[i] = bits < 0 ? edges[i % edges.length] : Float.intBitsToFloat((int) (bits + i));
            }
            FloatVector v = FloatVector.fromArray(F, x, 0);
            Simd.exp(v).intoArray(got, 0);
            expClampedByMinMax(v).intoArray(want, 0);
            for (int i = 0; i < LANES; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "exp(" + x[i] + ")");
            }
        }
    }

    /**
     * clamp gives the lanes of max then min, bit for bit: NaN, −0, the bounds and their neighbours, infinities, and a
     * stride through every float. (The exp and GELU' built on it were checked against their min-and-max forms for all
     * 2³² inputs once.)
     */
    @Test
    void clampGivesTheLanesOfMaxThenMin() {
        float[] x = new float[LANES], got = new float[LANES], want = new float[LANES];
        float lo = -1e4f, hi = 1e4f;
        float[] edges = {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                0f, -0f, lo, hi, Math.nextDown(lo), Math.nextUp(lo), Math.nextDown(hi), Math.nextUp(hi), Float.MAX_VALUE,
                -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f};
        for (long bits = -edges.length; bits < (1L << 32); bits += bits < 0 ? LANES : 4099L * LANES) {
            for (int i = 0; i < LANES; i++) {
                x[i] = bits < 0 ? edges[(int) ((bits + edges.length + i) % edges.length)] : Float.intBitsToFloat((int) (bits + i));
            }
            FloatVector v = FloatVector.fromArray(F, x, 0);
            Simd.clamp(v, lo, hi).intoArray(got, 0);
            v.max(lo).min(hi).intoArray(want, 0);
            for (int i = 0; i < LANES; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "clamp(" + x[i] + ")");
            }
        }
    }

    /** Simd.exp as it was until 2026-12-02: x.min(88).max(−87.33654475) first. */
    private static FloatVector expClampedByMinMax(FloatVector x) {
        FloatVector xc = x.min(88.0f).max(-87.33654475f);
        FloatVector n = xc.fma(c(1.44269504088896341f), c(12582912f)).sub(12582912f);
        FloatVector r = n.fma(c(2.12194440e-4f), n.fma(c(-0.693359375f), xc));
        FloatVector p = c(1.9875691500e-4f).fma(r, c(1.3981999507e-3f)).fma(r, c(8.3334519073e-3f))
                .fma(r, c(4.1665795894e-2f)).fma(r, c(1.6666665459e-1f)).fma(r, c(5.0000001201e-1f));
        FloatVector er = p.mul(r).fma(r, r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return er.mul(bits.reinterpretAsFloats()).blend(0f, x.compare(VectorOperators.LT, -87.33654475f));
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(F, v);
    }
}
