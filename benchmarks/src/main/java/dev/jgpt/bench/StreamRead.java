package dev.jgpt.bench;

import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;

/** The streaming read that read-bandwidth bounds time: a plain vector sum, as fast as one thread reads memory. */
public final class StreamRead {
    private StreamRead() {}

    /** Σ a[from, to) with four vector accumulators (independent adds, so the loads, not the adds, set the pace). */
    public static float sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(Simd.F), s1 = s0, s2 = s0, s3 = s0;
        int L = Simd.LANES, i = from;
        for (; i + 4 * L <= to; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(Simd.F, a, i));
            s1 = s1.add(FloatVector.fromArray(Simd.F, a, i + L));
            s2 = s2.add(FloatVector.fromArray(Simd.F, a, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(Simd.F, a, i + 3 * L));
        }
        float s = Simd.sum(s0.add(s1).add(s2).add(s3));
        for (; i < to; i++) {
            s += a[i];
        }
        return s;
    }
}
