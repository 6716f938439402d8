package dev.jgpt.kernel.quant;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class HalvesTest {
    @Test
    void everyHalfDecodesToItsValueInScalarAndVectorCode() {
        MemorySegment all = Arena.ofAuto().allocate(2 * 65536);
        for (int h = 0; h < 65536; h++) {
            all.set(QuantSimd.SHORT_LE, 2L * h, (short) h);
        }
        float[] vec = new float[65536];
        WeightType.F16.dequantize(all, 0, vec, 0, 65536);
        for (int h = 0; h < 65536; h++) {
            float want = QuantReference.half(h);
            float got = Halves.f16ToFloat((short) h);
            if (Float.isNaN(want)) {
                assertTrue(Float.isNaN(got) && Float.isNaN(vec[h]), "NaN half " + Integer.toHexString(h));
            } else if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)
                    || Float.floatToRawIntBits(vec[h]) != Float.floatToRawIntBits(want)) {
                fail("half 0x" + Integer.toHexString(h) + ": " + got + " / vector " + vec[h] + ", want " + want);
            }
        }
    }

    /**
     * Round to nearest even, checked where it decides: between two neighbouring halves a and b, the
     * exact midpoint goes to the one with an even mantissa and one float step either side goes to
     * the nearer; a half converts to itself.
     */
    @Test
    void f16RoundsToNearestEven() {
        for (int h = 0; h < 0x7bff; h++) {      // every finite non-negative half below the largest, and its successor
            float a = QuantReference.half(h), b = QuantReference.half(h + 1);
            float mid = (float) (((double) a + b) / 2);  // exact: halves have 11 significant bits
            int even = (h & 1) == 0 ? h : h + 1;
            for (int sign : new int[] {0, 0x8000}) {
                float s = sign == 0 ? 1f : -1f;
                assertEquals(h | sign, Halves.floatToF16(s * a) & 0xffff);
                assertEquals(even | sign, Halves.floatToF16(s * mid) & 0xffff, "midpoint after a half");
                assertEquals(h | sign, Halves.floatToF16(s * Math.nextDown(mid)) & 0xffff);
                assertEquals((h + 1) | sign, Halves.floatToF16(s * Math.nextUp(mid)) & 0xffff);
            }
        }
        assertEquals(0x7c00, Halves.floatToF16(65520f) & 0xffff, "the midpoint above 65504 rounds to ∞");
        assertEquals(0x7bff, Halves.floatToF16(Math.nextDown(65520f)) & 0xffff);
        assertEquals(0xfc00, Halves.floatToF16(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x7e00, Halves.floatToF16(Float.NaN) & 0xffff, "ggml's quiet NaN");
        assertEquals(0xfe00, Halves.floatToF16(Float.intBitsToFloat(0xff800001)) & 0xffff, "NaN keeps its sign only");
    }

    @Test
    void bf16RoundsToNearestEvenAndQuietsNaN() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            int top = rng.nextInt(0x7f80);                  // a finite non-negative bf16 below the largest
            float a = Float.intBitsToFloat(top << 16), b = Float.intBitsToFloat((top + 1) << 16);
            float mid = Float.intBitsToFloat(top << 16 | 0x8000);
            int even = (top & 1) == 0 ? top : top + 1;
            assertEquals(top, Halves.floatToBf16(a) & 0xffff);
            assertEquals(even, Halves.floatToBf16(mid) & 0xffff);
            assertEquals(top, Halves.floatToBf16(Math.nextDown(mid)) & 0xffff);
            assertEquals(top + 1, Halves.floatToBf16(Math.nextUp(mid)) & 0xffff);
            assertEquals(a, Halves.bf16ToFloat((short) top));
            assertEquals(-b, Halves.bf16ToFloat((short) (0x8000 | (top + 1))));
        }
        assertEquals(0x7f80, Halves.floatToBf16(Float.MAX_VALUE) & 0xffff, "rounds up to ∞");
        assertEquals(0x7fc1, Halves.floatToBf16(Float.intBitsToFloat(0x7f810000)) & 0xffff, "signalling NaN made quiet");
        assertEquals(0xffc0, Halves.floatToBf16(Float.intBitsToFloat(0xffc00001)) & 0xffff);
    }
}
