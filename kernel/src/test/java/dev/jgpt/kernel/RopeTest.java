package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jgpt.kernel.KernelTesting.assertBadInput;
import static dev.jgpt.kernel.KernelTesting.assertBitEqual;
import static dev.jgpt.kernel.KernelTesting.assertClose;
import static dev.jgpt.kernel.KernelTesting.randn;
import static dev.jgpt.kernel.KernelTesting.toDouble;
import static dev.jgpt.kernel.KernelTesting.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RopeTable}'s frequencies (default, linear, llama3) and {@link Rope} against {@link Reference}.
 * Each output is x_a·cos ∓ x_b·sin with cos/sin rounded to float (≤ 2⁻²⁴ absolute) and one fused
 * multiply-add: error ≲ 2⁻²³·(|x_a| + |x_b|) ≈ 1e-7 of the operand scale; tolerance 1e-6.
 */
class RopeTest {
    private static final double TOL = 1e-6;
    private final SplittableRandom rng = new SplittableRandom(23);

    @Test
    void defaultFrequenciesAndTableEntries() {
        int hd = 64;
        double theta = 10000;
        RopeTable t = new RopeTable(hd, theta, RopeTable.Scaling.NONE, 4096);
        double[] f = t.inverseFrequencies();
        assertEquals(hd / 2, f.length);
        assertEquals(1.0, f[0]);
        for (int i = 0; i < f.length; i++) {
            // f_i = θ^(−2i/d), i.e. exp(−(2i/d)·ln θ).
            assertEquals(Math.exp(-2.0 * i / hd * Math.log(theta)), f[i], 1e-14 * f[i], "f_" + i);
        }
        for (int p : new int[] {0, 1, 2, 17, 1000, 4095}) {
            for (int i = 0; i < hd / 2; i++) {
                // Computed in double, rounded once.
                assertEquals((float) Math.cos(p * f[i]), t.cos(p, i), 0f);
                assertEquals((float) Math.sin(p * f[i]), t.sin(p, i), 0f);
                // Hugging Face computes f_i, the angle and cos/sin in float32: its entries differ from ours by
                // the float rounding of the angle, whose relative error is ≲ (ln θ·2i/d + 3)·2⁻²⁴ (the rounded
                // exponent is magnified by ln θ in θ^e, then pow, 1/x and the product each round once).
                float e = (float) (2 * i) / (float) hd;
                float hfF = 1f / (float) Math.pow(theta, e);
                float hfAngle = hfF * (float) p;
                double bound = (Math.log(theta) * e + 4) * 0x1p-24 * Math.abs(hfAngle) + 0x1p-23;
                assertEquals((float) Math.cos(hfAngle), t.cos(p, i), bound, "cos at p=" + p + ", i=" + i);
                assertEquals((float) Math.sin(hfAngle), t.sin(p, i), bound, "sin at p=" + p + ", i=" + i);
            }
        }
    }

    @Test
    void linearScalingDividesEveryFrequency() {
        double[] f = RopeTable.inverseFrequencies(96, 1e6, RopeTable.Scaling.NONE);
        double[] g = RopeTable.inverseFrequencies(96, 1e6, new RopeTable.Scaling.Linear(4));
        for (int i = 0; i < f.length; i++) {
            assertEquals(f[i] / 4, g[i], 0.0);
        }
        // Position p with factor 4 turns as position p/4 unscaled.
        RopeTable scaled = new RopeTable(96, 1e6, new RopeTable.Scaling.Linear(4), 64);
        RopeTable plain = new RopeTable(96, 1e6, RopeTable.Scaling.NONE, 64);
        assertEquals(plain.cos(5, 3), scaled.cos(20, 3), 1e-7f);
    }

    /**
     * Llama 3.1's scaling, derived here from how Meta describes it rather than from HF's wavelength form:
     * count the turns pair i makes over the original context, n_i = L·f_i/(2π). Pairs that turn more than
     * high_freq_factor times keep f_i (they never see an unseen angle); pairs that turn less than
     * low_freq_factor times are interpolated (f_i/factor); in between, the frequency moves linearly in n
     * from f_i/factor to f_i.
     */
    @Test
    void llama3ScalingByTurnsOverTheOriginalContext() {
        // Llama 3.2 1B/3B (hd 64, factor 32) and Llama 3.1 8B (hd 128, factor 8), both θ = 500000, L = 8192.
        for (int[] c : new int[][] {{64, 32}, {128, 8}}) {
            int hd = c[0];
            double factor = c[1], lo = 1, hi = 4;
            int L = 8192;
            double[] plain = RopeTable.inverseFrequencies(hd, 500000, RopeTable.Scaling.NONE);
            double[] f = RopeTable.inverseFrequencies(hd, 500000, new RopeTable.Scaling.Llama3(factor, lo, hi, L));
            int kept = 0, smoothed = 0, divided = 0;
            for (int i = 0; i < f.length; i++) {
                double turns = L * plain[i] / (2 * Math.PI);
                double expected;
                if (turns > hi) {
                    expected = plain[i];
                    kept++;
                } else if (turns < lo) {
                    expected = plain[i] / factor;
                    divided++;
                } else {
                    double s = (turns - lo) / (hi - lo);
                    expected = plain[i] / factor + s * (plain[i] - plain[i] / factor);
                    smoothed++;
                }
                assertEquals(expected, f[i], 1e-14 * expected, "hd " + hd + ", pair " + i);
                assertTrue(i == 0 || f[i] < f[i - 1], "frequencies still fall with i");
            }
            // By hand: n_i = 8192/(2π)·500000^(−2i/hd) > 4 ⟺ i < (hd/2)·ln(8192/(8π))/ln(500000) = (hd/2)·0.4410,
            // and < 1 ⟺ i > (hd/2)·ln(8192/(2π))/ln(500000) = (hd/2)·0.5466. For hd 64: i ≤ 14 kept, 15..17
            // smoothed, 18..31 divided; for hd 128: i ≤ 28, 29..34, 35..63.
            int[] bands = hd == 64 ? new int[] {15, 3, 14} : new int[] {29, 6, 29};
            assertEquals(bands[0], kept, "kept");
            assertEquals(bands[1], smoothed, "smoothed");
            assertEquals(bands[2], divided, "divided");
        }
        // The smooth band is continuous at its ends: turns = lo gives f/factor, turns = hi gives f.
        double lo = 1, hi = 4, factor = 8;
        for (double turns : new double[] {lo, hi}) {
            int L = 8192;
            double plainF = turns * 2 * Math.PI / L;
            double theta = Math.pow(1 / plainF, 2);   // hd = 4: f_1 = θ^(−1/2) = plainF
            double[] f = RopeTable.inverseFrequencies(4, theta, new RopeTable.Scaling.Llama3(factor, lo, hi, L));
            assertEquals(turns == lo ? plainF / factor : plainF, f[1], 1e-12 * plainF, "at " + turns + " turns");
        }
    }

    @Test
    void pairsTheTwoHalvesOfAHead() {
        // x = e_0 in a head of 4: pair (0, 2) turns by 1 radian at position 1, so x becomes (cos 1, 0, sin 1, 0).
        // (Interleaved pairs would give (cos 1, sin 1, 0, 0).)
        RopeTable t = new RopeTable(4, 10000, RopeTable.Scaling.NONE, 2);
        float[] x = {1, 0, 0, 0};
        Rope.forward(x, 0, 4, 1, 1, new int[] {1}, t);
        assertEquals((float) Math.cos(1), x[0], 1e-7f);
        assertEquals(0f, x[1]);
        assertEquals((float) Math.sin(1), x[2], 1e-7f);
        assertEquals(0f, x[3]);
    }

    @Test
    void forwardAndBackwardMatchReference() {
        for (int hd : new int[] {2, 8, 34, 64, 80, 96, 128}) {
            RopeTable table = new RopeTable(hd, 500000,
                    new RopeTable.Scaling.Llama3(32, 1, 4, 8192), 131072);
            for (int[] heads : new int[][] {{1, 1}, {3, 1}, {4, 2}}) {
                // Packed rows [q (nq heads) | k (nk heads) | v (nk heads)] + 3 floats of padding, at offset 5.
                int nq = heads[0], nk = heads[1], rows = 6, off = 5;
                int stride = (nq + 2 * nk) * hd + 3;
                int[] pos = {0, 1, 7, 4095, 131071, 77777};
                for (double scale : new double[] {1, 1e30}) {
                    float[] x = randn(rng, off + rows * stride, scale);
                    String label = "hd=" + hd + " heads=" + nq + "+" + nk + " scale=" + scale;
                    float[] y = x.clone();
                    Rope.forward(y, off, stride, rows, nq + nk, pos, table);
                    double[] ry = toDouble(x);
                    Reference.ropeForward(ry, off, stride, rows, nq + nk, hd, pos, table.inverseFrequencies());
                    assertClose(label + " forward", ry, y, TOL);
                    for (int r = 0; r < rows; r++) {   // v and padding untouched
                        int v = off + r * stride + (nq + nk) * hd;
                        for (int i = v; i < off + (r + 1) * stride; i++) {
                            assertEquals(x[i], y[i], 0f);
                        }
                    }
                    Rope.backward(y, off, stride, rows, nq + nk, pos, table);
                    Reference.ropeBackward(ry, off, stride, rows, nq + nk, hd, pos, table.inverseFrequencies());
                    assertClose(label + " backward", ry, y, TOL);
                    assertClose(label + " backward undoes forward", toDouble(x), y, 2 * TOL);
                }
            }
        }
    }

    @Test
    void independentOfThreadCount() {
        int hd = 80, heads = 5, rows = 300;
        RopeTable table = new RopeTable(hd, 1e6, RopeTable.Scaling.NONE, 1000);
        float[] x = randn(rng, rows * (heads + 2) * hd, 1);
        int[] pos = new int[rows];
        for (int r = 0; r < rows; r++) {
            pos[r] = rng.nextInt(1000);
        }
        float[][] res = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            float[] y = x.clone();
            withThreads(threads, () -> {
                Rope.forward(y, 0, (heads + 2) * hd, rows, heads, pos, table);
                Rope.backward(y, 0, (heads + 2) * hd, rows, heads - 1, pos, table);
            });
            res[threads - 1] = y;
        }
        assertBitEqual("2 threads", res[0], res[1]);
        assertBitEqual("3 threads", res[0], res[2]);
    }

    @Test
    void sequencePositions() {
        assertEquals(java.util.List.of(5, 6, 7, 5, 6, 7),
                java.util.Arrays.stream(Rope.sequencePositions(2, 3, 5)).boxed().toList());
        assertEquals(0, Rope.sequencePositions(0, 3, 0).length);
    }

    @Test
    void badInput() {
        RopeTable t = new RopeTable(8, 10000, RopeTable.Scaling.NONE, 16);
        float[] x = new float[3 * 24];
        assertBadInput(() -> Rope.forward(x, 0, 24, 3, 2, new int[] {0, 16, 1}, t),
                "rope", "position 16", "row 1", "0..15");
        assertBadInput(() -> Rope.forward(x, 0, 24, 3, 2, new int[] {0, -1, 1}, t), "rope", "position -1");
        assertBadInput(() -> Rope.forward(x, 0, 24, 3, 2, new int[] {0, 1}, t), "rope", "positions");
        assertBadInput(() -> Rope.forward(x, 0, 12, 3, 2, new int[] {0, 1, 2}, t), "rope", "12 floats", "2 heads of 8");
        assertBadInput(() -> Rope.backward(x, 8, 24, 3, 3, new int[] {0, 1, 2}, t), "ropeBackward", "x", "80");
        assertBadInput(() -> new RopeTable(7, 10000, RopeTable.Scaling.NONE, 16), "head_dim", "even", "7");
        assertBadInput(() -> new RopeTable(8, 0, RopeTable.Scaling.NONE, 16), "rope_theta");
        assertBadInput(() -> new RopeTable(8, 10000, RopeTable.Scaling.NONE, 0), "max positions");
        assertBadInput(() -> new RopeTable.Scaling.Linear(0), "factor");
        assertBadInput(() -> new RopeTable.Scaling.Llama3(8, 4, 1, 8192), "high_freq_factor", "low_freq_factor");
        assertBadInput(() -> new RopeTable.Scaling.Llama3(8, 1, 4, 0), "original_max_position_embeddings");
        assertThrows(IndexOutOfBoundsException.class, () -> t.cos(16, 0));
    }
}
