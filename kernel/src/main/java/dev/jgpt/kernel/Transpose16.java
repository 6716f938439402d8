package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 16 × 16 float transpose in registers, for packing a transposed B (the Linear forward layout
 * x·Wᵀ reads W across its rows). Four stages; stage b swaps bit b of the row index with bit b
 * of the column index, pairing rows r and r|2^b with two-vector shuffles. It is split in two
 * methods through a 256-float scratch because all four stages in one method exceed C2's inlining
 * budget and the vectors get boxed (≈20× slower). Used only with 16-lane (512-bit) vectors.
 */
final class Transpose16 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorShuffle<Float> LO0 = lo(0), HI0 = hi(0), LO1 = lo(1), HI1 = hi(1);
    private static final VectorShuffle<Float> LO2 = lo(2), HI2 = hi(2), LO3 = lo(3), HI3 = hi(3);

    private Transpose16() {}

    /** Row r (bit b clear) takes its own lanes with bit b clear and row r|m's lanes c^m otherwise. */
    private static VectorShuffle<Float> lo(int bit) {
        int m = 1 << bit;
        int[] idx = new int[16];
        for (int c = 0; c < 16; c++) {
            idx[c] = (c & m) == 0 ? c : (c ^ m) - 16; // negative: lane c^m of the second vector
        }
        return VectorShuffle.fromValues(S, idx);
    }

    /** Row r|m takes row r's lanes c|m where bit b of c is clear, and its own lanes otherwise. */
    private static VectorShuffle<Float> hi(int bit) {
        int m = 1 << bit;
        int[] idx = new int[16];
        for (int c = 0; c < 16; c++) {
            idx[c] = (c & m) != 0 ? c - 16 : c | m;
        }
        return VectorShuffle.fromValues(S, idx);
    }

    /** Stages 0 and 1: 16 rows of src (16 floats each, at s + i·lds) into tmp. */
    static void firstHalf(float[] src, int s, int lds, float[] tmp) {
        FloatVector a0 = FloatVector.fromArray(S, src, s), a1 = FloatVector.fromArray(S, src, s + 1 * lds);
        FloatVector a2 = FloatVector.fromArray(S, src, s + 2 * lds), a3 = FloatVector.fromArray(S, src, s + 3 * lds);
        FloatVector a4 = FloatVector.fromArray(S, src, s + 4 * lds), a5 = FloatVector.fromArray(S, src, s + 5 * lds);
        FloatVector a6 = FloatVector.fromArray(S, src, s + 6 * lds), a7 = FloatVector.fromArray(S, src, s + 7 * lds);
        FloatVector a8 = FloatVector.fromArray(S, src, s + 8 * lds), a9 = FloatVector.fromArray(S, src, s + 9 * lds);
        FloatVector a10 = FloatVector.fromArray(S, src, s + 10 * lds), a11 = FloatVector.fromArray(S, src, s + 11 * lds);
        FloatVector a12 = FloatVector.fromArray(S, src, s + 12 * lds), a13 = FloatVector.fromArray(S, src, s + 13 * lds);
        FloatVector a14 = FloatVector.fromArray(S, src, s + 14 * lds), a15 = FloatVector.fromArray(S, src, s + 15 * lds);
        FloatVector t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15;
        t0 = a0.rearrange(LO0, a1); t1 = a0.rearrange(HI0, a1); t2 = a2.rearrange(LO0, a3); t3 = a2.rearrange(HI0, a3);
        t4 = a4.rearrange(LO0, a5); t5 = a4.rearrange(HI0, a5); t6 = a6.rearrange(LO0, a7); t7 = a6.rearrange(HI0, a7);
        t8 = a8.rearrange(LO0, a9); t9 = a8.rearrange(HI0, a9); t10 = a10.rearrange(LO0, a11); t11 = a10.rearrange(HI0, a11);
        t12 = a12.rearrange(LO0, a13); t13 = a12.rearrange(HI0, a13); t14 = a14.rearrange(LO0, a15); t15 = a14.rearrange(HI0, a15);
        a0 = t0.rearrange(LO1, t2); a2 = t0.rearrange(HI1, t2); a1 = t1.rearrange(LO1, t3); a3 = t1.rearrange(HI1, t3);
        a4 = t4.rearrange(LO1, t6); a6 = t4.rearrange(HI1, t6); a5 = t5.rearrange(LO1, t7); a7 = t5.rearrange(HI1, t7);
        a8 = t8.rearrange(LO1, t10); a10 = t8.rearrange(HI1, t10); a9 = t9.rearrange(LO1, t11); a11 = t9.rearrange(HI1, t11);
        a12 = t12.rearrange(LO1, t14); a14 = t12.rearrange(HI1, t14); a13 = t13.rearrange(LO1, t15); a15 = t13.rearrange(HI1, t15);
        int d = 0;
        a0.intoArray(tmp, d); a1.intoArray(tmp, d + 1 * 16); a2.intoArray(tmp, d + 2 * 16); a3.intoArray(tmp, d + 3 * 16);
        a4.intoArray(tmp, d + 4 * 16); a5.intoArray(tmp, d + 5 * 16); a6.intoArray(tmp, d + 6 * 16); a7.intoArray(tmp, d + 7 * 16);
        a8.intoArray(tmp, d + 8 * 16); a9.intoArray(tmp, d + 9 * 16); a10.intoArray(tmp, d + 10 * 16); a11.intoArray(tmp, d + 11 * 16);
        a12.intoArray(tmp, d + 12 * 16); a13.intoArray(tmp, d + 13 * 16); a14.intoArray(tmp, d + 14 * 16); a15.intoArray(tmp, d + 15 * 16);
    }

    /** Stages 2 and 3: tmp into 16 rows of dst (at d + i·ldd). */
    static void secondHalf(float[] tmp, float[] dst, int d, int ldd) {
        int s = 0;
        FloatVector a0 = FloatVector.fromArray(S, tmp, s), a1 = FloatVector.fromArray(S, tmp, s + 1 * 16);
        FloatVector a2 = FloatVector.fromArray(S, tmp, s + 2 * 16), a3 = FloatVector.fromArray(S, tmp, s + 3 * 16);
        FloatVector a4 = FloatVector.fromArray(S, tmp, s + 4 * 16), a5 = FloatVector.fromArray(S, tmp, s + 5 * 16);
        FloatVector a6 = FloatVector.fromArray(S, tmp, s + 6 * 16), a7 = FloatVector.fromArray(S, tmp, s + 7 * 16);
        FloatVector a8 = FloatVector.fromArray(S, tmp, s + 8 * 16), a9 = FloatVector.fromArray(S, tmp, s + 9 * 16);
        FloatVector a10 = FloatVector.fromArray(S, tmp, s + 10 * 16), a11 = FloatVector.fromArray(S, tmp, s + 11 * 16);
        FloatVector a12 = FloatVector.fromArray(S, tmp, s + 12 * 16), a13 = FloatVector.fromArray(S, tmp, s + 13 * 16);
        FloatVector a14 = FloatVector.fromArray(S, tmp, s + 14 * 16), a15 = FloatVector.fromArray(S, tmp, s + 15 * 16);
        FloatVector t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15;
        t0 = a0.rearrange(LO2, a4); t4 = a0.rearrange(HI2, a4); t1 = a1.rearrange(LO2, a5); t5 = a1.rearrange(HI2, a5);
        t2 = a2.rearrange(LO2, a6); t6 = a2.rearrange(HI2, a6); t3 = a3.rearrange(LO2, a7); t7 = a3.rearrange(HI2, a7);
        t8 = a8.rearrange(LO2, a12); t12 = a8.rearrange(HI2, a12); t9 = a9.rearrange(LO2, a13); t13 = a9.rearrange(HI2, a13);
        t10 = a10.rearrange(LO2, a14); t14 = a10.rearrange(HI2, a14); t11 = a11.rearrange(LO2, a15); t15 = a11.rearrange(HI2, a15);
        a0 = t0.rearrange(LO3, t8); a8 = t0.rearrange(HI3, t8); a1 = t1.rearrange(LO3, t9); a9 = t1.rearrange(HI3, t9);
        a2 = t2.rearrange(LO3, t10); a10 = t2.rearrange(HI3, t10); a3 = t3.rearrange(LO3, t11); a11 = t3.rearrange(HI3, t11);
        a4 = t4.rearrange(LO3, t12); a12 = t4.rearrange(HI3, t12); a5 = t5.rearrange(LO3, t13); a13 = t5.rearrange(HI3, t13);
        a6 = t6.rearrange(LO3, t14); a14 = t6.rearrange(HI3, t14); a7 = t7.rearrange(LO3, t15); a15 = t7.rearrange(HI3, t15);
        a0.intoArray(dst, d); a1.intoArray(dst, d + 1 * ldd); a2.intoArray(dst, d + 2 * ldd); a3.intoArray(dst, d + 3 * ldd);
        a4.intoArray(dst, d + 4 * ldd); a5.intoArray(dst, d + 5 * ldd); a6.intoArray(dst, d + 6 * ldd); a7.intoArray(dst, d + 7 * ldd);
        a8.intoArray(dst, d + 8 * ldd); a9.intoArray(dst, d + 9 * ldd); a10.intoArray(dst, d + 10 * ldd); a11.intoArray(dst, d + 11 * ldd);
        a12.intoArray(dst, d + 12 * ldd); a13.intoArray(dst, d + 13 * ldd); a14.intoArray(dst, d + 14 * ldd); a15.intoArray(dst, d + 15 * ldd);
    }
}
