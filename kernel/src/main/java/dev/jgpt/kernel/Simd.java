package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

    /** Shuffles for a fixed pairwise tree: lane i meets lane i ^ LANES/2, then i ^ LANES/4, ... */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] FOLDS = new VectorShuffle[Integer.numberOfTrailingZeros(LANES)];

    static {
        for (int k = 0, half = LANES / 2; half >= 1; k++, half /= 2) {
            int h = half;
            FOLDS[k] = VectorShuffle.fromOp(F, i -> i ^ h);
        }
    }

    private Simd() {}

    /** Σ lanes of v, always in the same order (a pairwise tree). */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> fold : FOLDS) {
            v = v.add(v.rearrange(fold));
        }
        return v.lane(0);
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // Cody–Waite split of ln 2
    private static final float ROUNDER = 12582912f;                            // 1.5·2²³: adding it rounds to an integer
    private static final float EXP_MAX = 88.0f, EXP_MIN = -87.33654475f;     // e^x stays a normal float in between

    /**
     * e^x lane-wise, within 2 ulp for x ≤ 88 (Cephes' expf: x = n·ln 2 + r, |r| ≤ ln 2/2, e^r by a
     * degree-6 polynomial, then the exponent n added to the bits). Below −87.34 the result is 0 (e^x is
     * subnormal there; softmax weights that small do not matter), −∞ gives 0, NaN gives NaN, and above
     * 88 the result saturates at e^88 (callers subtract the row maximum first, so inputs are ≤ 0).
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector xc = x.min(EXP_MAX).max(EXP_MIN);
        FloatVector n = xc.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER)).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector er = p.mul(r).fma(r, r).add(1f);                              // 1 + r + r²·p(r)
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return er.mul(scale).blend(0f, x.compare(VectorOperators.LT, EXP_MIN));
    }

    public static String describe() {
        return "Vector API " + F.vectorBitSize() + "-bit, " + LANES + " floats/vector, "
                + Parallel.threads() + " threads";
    }
}
