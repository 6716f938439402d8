package dev.jgpt.kernel.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Each format's bytes: decoders against the per-element reference, and quantize → dequantize errors. */
class FormatTest {
    static float[] gaussian(SplittableRandom rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
        return a;
    }

    static void assertSameBits(String what, float want, float got) {
        if (Float.floatToIntBits(want) != Float.floatToIntBits(got)) {
            fail(what + ": got " + got + ", want " + want);
        }
    }

    /** SIMD decode, scalar dequantize and the per-element reference agree bit for bit, on arbitrary bytes. */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void decodersAgreeWithTheReferenceOnArbitraryBlocks(WeightType t) {
        SplittableRandom rng = new SplittableRandom(t.ordinal());
        for (int blocks : new int[] {1, 2, 3, 5}) {
            int n = blocks * t.blockSize;
            int cols = t.blockSize == 1 ? n * 37 + 3 : n;     // f32/f16/bf16: lengths with vector tails
            long bytes = t.rowBytes(cols);
            MemorySegment s = Arena.ofAuto().allocate(bytes + 7);
            for (long i = 0; i < s.byteSize(); i++) {
                s.set(ValueLayout.JAVA_BYTE, i, (byte) rng.nextInt());
            }
            if (t != WeightType.F32 && t != WeightType.F16 && t != WeightType.BF16) {
                // Keep f16 scales finite so products are numbers (arbitrary bits elsewhere).
                for (int b = 0; b < blocks; b++) {
                    long o = 7 + (long) b * t.blockBytes;
                    long[] scales = t == WeightType.Q4_K ? new long[] {o, o + 2} : t == WeightType.Q6_K
                            ? new long[] {o + 208} : new long[] {o};
                    for (long so : scales) {
                        s.set(QuantSimd.SHORT_LE, so, Halves.floatToF16((float) rng.nextGaussian()));
                    }
                }
            }
            float[] vec = new float[cols + 2], scalar = new float[cols + 2];
            t.dequantize(s, 7, vec, 1, cols);
            t.format.dequantize(s, 7, scalar, 1, cols);
            for (int c = 0; c < cols; c++) {
                float want = QuantReference.weight(t, s, 7, c);
                assertSameBits(t + " scalar [" + c + "] of " + cols, want, scalar[1 + c]);
                assertSameBits(t + " SIMD [" + c + "] of " + cols, want, vec[1 + c]);
            }
            assertEquals(0f, vec[0]);
            assertEquals(0f, vec[cols + 1], "wrote past the row");
        }
    }

    /** Quantize then dequantize stays within each format's bound; measured on N(0, 1) rows. */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void quantizationErrorIsBounded(WeightType t) {
        SplittableRandom rng = new SplittableRandom(100 + t.ordinal());
        int rows = 64, cols = 1024;
        float[] w = gaussian(rng, rows * cols, 1.0);
        WeightMatrix m = WeightMatrix.quantize(t, w, rows, cols);
        float[] back = m.dequantize();
        double err2 = 0, sum2 = 0, worstOverScale = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                double e = Math.abs((double) back[i] - w[i]);
                err2 += e * e;
                sum2 += (double) w[i] * w[i];
                double scale = switch (t) {
                    case F32 -> Math.ulp(w[i]);
                    case F16 -> Math.abs(w[i]) * 0x1p-11 + 0x1p-25;     // half an ulp of f16, or of its subnormals
                    case BF16 -> Math.abs(w[i]) * 0x1p-8;
                    case Q8_0, Q4_0 -> Math.abs(QuantSimd.f16(m.data(), r * m.rowBytes() + (long) (c / 32) * t.blockBytes));
                    default -> Double.NaN;
                };
                if (!Double.isNaN(scale)) {
                    worstOverScale = Math.max(worstOverScale, e / scale);
                }
            }
        }
        double rel = Math.sqrt(err2 / sum2);
        switch (t) {
            case F32 -> assertEquals(0.0, worstOverScale, "f32 is stored exactly");
            case F16, BF16 -> assertTrue(worstOverScale <= 1.0, t + ": error " + worstOverScale + " × half an ulp");
            // |x − q·d| ≤ d/2 by rounding, plus |q|·|d − f16(d)| ≤ 127·2⁻¹¹·d from storing d as f16.
            case Q8_0 -> assertTrue(worstOverScale <= 0.5 + 127 * 0x1p-11 + 1e-6, "q8_0: error " + worstOverScale + "·d");
            // Values in (7.5d, 8d] clamp to q = 15 (error up to d); f16(d) adds ≤ 8·2⁻¹¹·d.
            case Q4_0 -> assertTrue(worstOverScale <= 1 + 8 * 0x1p-11 + 1e-6, "q4_0: error " + worstOverScale + "·d");
            // Least-squares fits (not minimax): bounded in RMS. Uniform rounding on a grid of step Δ has
            // RMS error Δ/√12. For N(0,1) data the Q4_K grid is about range/15 over 32 values (range
            // ≈ 4.1σ: estimate 0.079σ; the fitted minimum does a little better) and the Q6_K grid
            // max/32 over 16 values (max ≈ 1.8σ: estimate 0.016σ; 8-bit sub-block scales add a little).
            case Q4_K -> assertTrue(rel <= 0.09, "q4_K: relative RMS error " + rel);
            case Q6_K -> assertTrue(rel <= 0.02, "q6_K: relative RMS error " + rel);
        }
        if (System.getenv("JGPT_KERNEL_VERBOSE") != null) {
            System.out.printf("%-5s relative RMS error %.5f%s%n", t.ggmlName(), rel,
                    t == WeightType.Q4_K || t == WeightType.Q6_K ? "" : String.format(", worst %.4f × its scale", worstOverScale));
        }
    }

    @Test
    void valuesOnTheFormatsGridsRoundTripExactly() {
        SplittableRandom rng = new SplittableRandom(3);
        int cols = 256;
        float[] f16s = new float[cols], bf16s = new float[cols], q8 = new float[cols], q4 = new float[cols];
        for (int i = 0; i < cols; i++) {
            f16s[i] = Halves.f16ToFloat((short) rng.nextInt(0x7c00));
            bf16s[i] = Halves.bf16ToFloat((short) (rng.nextInt(0x7f80) | rng.nextInt(2) << 15));
            // Blocks whose largest |value| is 127·2⁻⁷ (Q8_0) or whose largest is −8·2⁻⁴ (Q4_0): d = 2⁻⁷
            // and 2⁻⁴ exactly, and every value a multiple of d.
            q8[i] = i % 32 == 5 ? 127 / 128f : (rng.nextInt(255) - 127) / 128f;
            q4[i] = i % 32 == 9 ? -0.5f : (rng.nextInt(16) - 8) / 16f;
        }
        float[][] data = {f16s, bf16s, q8, q4};
        WeightType[] types = {WeightType.F16, WeightType.BF16, WeightType.Q8_0, WeightType.Q4_0};
        for (int k = 0; k < types.length; k++) {
            float[] back = WeightMatrix.quantize(types[k], data[k], 1, cols).dequantize();
            for (int i = 0; i < cols; i++) {
                assertSameBits(types[k] + " [" + i + "]", data[k][i], back[i]);
            }
        }
        float[] any = gaussian(rng, cols, 3.0);
        float[] back = WeightMatrix.quantize(WeightType.F32, any, 1, cols).dequantize();
        for (int i = 0; i < cols; i++) {
            assertSameBits("f32 [" + i + "]", any[i], back[i]);
        }
    }

    @Test
    void allZeroBlocksStayZero() {
        for (WeightType t : WeightType.values()) {
            float[] back = WeightMatrix.quantize(t, new float[512], 2, 256).dequantize();
            for (float v : back) {
                assertEquals(0f, Math.abs(v), t.ggmlName());
            }
        }
    }

    @Test
    void typesKnowGgmlIdsNamesAndSizes() {
        assertEquals(WeightType.Q4_K, WeightType.ofGgmlType(12));
        assertEquals(WeightType.BF16, WeightType.ofGgmlType(30));
        assertEquals(null, WeightType.ofGgmlType(13), "q5_K: ggml has it, jgpt does not");
        assertEquals("q6_K", WeightType.Q6_K.ggmlName());
        assertEquals(WeightType.Q4_K, WeightType.parse("q4_k"));
        assertEquals(4.5, WeightType.Q4_K.bitsPerWeight());
        assertEquals(6.5625, WeightType.Q6_K.bitsPerWeight());
        assertEquals(8.5, WeightType.Q8_0.bitsPerWeight());
        assertEquals(2 * 144, WeightType.Q4_K.rowBytes(512));
        var e = assertThrows(IllegalArgumentException.class, () -> WeightType.Q4_K.rowBytes(100));
        assertTrue(e.getMessage().contains("q4_K") && e.getMessage().contains("256"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightType.parse("q5_k"));
    }
}
