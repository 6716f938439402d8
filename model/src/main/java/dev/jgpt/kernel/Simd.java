package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The one place the vector shape is chosen. Kept {@code static final}: anything else runs scalar. */
public final class Simd {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = F.length();

    private Simd() {}

    public static String describe() {
        return "Vector API " + F.vectorBitSize() + "-bit, " + LANES + " floats/vector, "
                + Parallel.threads() + " threads";
    }
}
