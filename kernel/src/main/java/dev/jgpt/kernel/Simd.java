package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place the vector shape is chosen (kept {@code static final}: anything else runs scalar), and
 * the two vector functions whose library forms are not reproducible. {@code reduceLanes(ADD)} and
 * {@code lanewise(EXP)} round differently before and after the JIT compiles a loop (the interpreter's
 * fallback sums lanes in another order and calls Math.exp; compiled code uses a shuffle tree and a
 * vector math stub), so a run would not repeat bit for bit. {@link #sum} and {@link #exp} are built
 * from lane-wise IEEE operations only, which give the same bits in every execution mode.
 */
public final class Simd {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = F.length();

    /**
     * Shuffles for a fixed pairwise tree (lane i meets lane i ^ LANES/2, then i ^ LANES/4, ...), one
     * static final field each so that the JIT sees constants (an array of shuffles is reloaded and
     * converted on every call); {@code null} where the vector has no such distance. Public for kernels
     * that write the tree out where a call to {@link #sum} might not be inlined (see the Q4_K/Q6_K dots).
     */
    public static final VectorShuffle<Float> FOLD_8 = fold(8), FOLD_4 = fold(4), FOLD_2 = fold(2), FOLD_1 = fold(1);

    private static VectorShuffle<Float> fold(int distance) {
        return distance < LANES ? VectorShuffle.fromOp(F, i -> i ^ distance) : null;
    }

    static {
        if (LANES > 16) {
            throw new ExceptionInInitializerError("Simd.sum folds at most 16 lanes; this vector has " + LANES);
        }
    }

    private Simd() {}

    /** Σ lanes of v, always in the same order (a pairwise tree). */
    public static float sum(FloatVector v) {
        if (LANES > 8) v = v.add(v.rearrange(FOLD_8));
        if (LANES > 4) v = v.add(v.rearrange(FOLD_4));
        if (LANES > 2) v = v.add(v.rearrange(FOLD_2));
        if (LANES > 1) v = v.add(v.rearrange(FOLD_1));
        return v.lane(0);
    }

    // Constants as vectors held in static final fields: the JIT folds them, and each use is one node
    // instead of a broadcast call chain, which keeps exp small enough to inline into large kernels.
    private static final float EXP_MAX = 88.0f, EXP_MIN = -87.33654475f;      // e^x stays a normal float in between
    private static final float ROUNDER = 12582912f;                             // 1.5·2²³: adding it rounds to an integer
    private static final FloatVector EXP_MAX_V = FloatVector.broadcast(F, EXP_MAX);
    private static final FloatVector LOG2E = FloatVector.broadcast(F, 1.44269504088896341f);
    private static final FloatVector ROUND = FloatVector.broadcast(F, ROUNDER);
    private static final FloatVector MINUS_LN2_HI = FloatVector.broadcast(F, -0.693359375f); // Cody–Waite split of ln 2
    private static final FloatVector MINUS_LN2_LO = FloatVector.broadcast(F, 2.12194440e-4f);
    private static final FloatVector P0 = FloatVector.broadcast(F, 1.9875691500e-4f), P1 = FloatVector.broadcast(F, 1.3981999507e-3f),
            P2 = FloatVector.broadcast(F, 8.3334519073e-3f), P3 = FloatVector.broadcast(F, 4.1665795894e-2f),
            P4 = FloatVector.broadcast(F, 1.6666665459e-1f), P5 = FloatVector.broadcast(F, 5.0000001201e-1f);

    /**
     * e^x lane-wise, within 2 ulp for x ≤ 88 (Cephes' expf: x = n·ln 2 + r, |r| ≤ ln 2/2, e^r by a
     * degree-6 polynomial, then the exponent n added to the bits). Below −87.34 the result is 0 (e^x is
     * subnormal there; softmax weights that small do not matter), −∞ gives 0, NaN gives NaN, and above
     * 88 the result saturates at e^88 (callers subtract the row maximum first, so inputs are ≤ 0).
     */
    public static FloatVector exp(FloatVector x) {
        // Clamped by compare and blend: the same lanes as min/max (NaN stays NaN, −0 stays −0; all 2³² inputs
        // checked), in fewer instructions than Java's min/max semantics take on AVX-512 (exp 1.3× faster).
        // Lanes below the range compute e^0 and are zeroed at the end. Computed at EXP_MIN itself, as they were, their
        // product before the zeroing can round to a subnormal, and on Intel every instruction that makes one takes a
        // microcode assist: GELU of inputs below about −10 ran 6.5× slower (Xeon family 6), the same bits either way.
        VectorMask<Float> low = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector xc = x.blend(EXP_MAX_V, x.compare(VectorOperators.GT, EXP_MAX)).blend(0f, low);
        FloatVector t = xc.fma(LOG2E, ROUND), n = t.sub(ROUNDER);
        FloatVector r = n.fma(MINUS_LN2_LO, n.fma(MINUS_LN2_HI, xc));
        FloatVector p = P0.fma(r, P1).fma(r, P2).fma(r, P3).fma(r, P4).fma(r, P5);
        FloatVector er = p.mul(r).fma(r, r).add(1f);                              // 1 + r + r²·p(r)
        // 2ⁿ's bits, (n + 127)·2²³, from t = 1.5·2²³ + n, whose low mantissa bits hold n: shifted up by 23 they give
        // n·2²³ mod 2³². The same bits as converting n to int, without the conversion's NaN and overflow check,
        // which C2 emits as a compare and branch on every vector.
        IntVector bits = t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(127 << 23);
        return er.mul(bits.reinterpretAsFloats()).blend(0f, low);
    }

    /**
     * v.max(lo).min(hi) lane-wise (lo ≤ hi, neither NaN), by compare and blend: the same lanes (NaN stays NaN, −0
     * stays −0), in fewer instructions than Java's min and max semantics take on AVX-512. In GELU's fused epilogue
     * 0.96 → 0.86-0.92 ns an element (768 × 512, one thread, Xeon family 6).
     */
    public static FloatVector clamp(FloatVector v, float lo, float hi) {
        return v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
    }

    public static String describe() {
        return "Vector API " + F.vectorBitSize() + "-bit, " + LANES + " floats/vector, "
                + Parallel.threads() + " threads";
    }
}
