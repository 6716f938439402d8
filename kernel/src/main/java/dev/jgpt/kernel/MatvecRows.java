package dev.jgpt.kernel;

/**
 * How many matrix rows a matrix-vector product (decode's every weight read once) reads side by side, their
 * FMA chains sharing each load of x: 8 or 1, chosen per CPU because the two kinds this project runs on want
 * opposite things. Measured single-thread on GPT-2 124M's decode matrices (f32, on the heap, JDK 25, KVM):
 * <ul>
 * <li>Zen 5 (AMD family 26): one row at a time 19.5 GB/s, 2 rows 22, 4 rows 25.5, 8 rows 27, above a plain
 *     streaming sum's 25 (2026-12-01; {@code MatvecRowsPair} the next day, a slower window: 19.4, 21.2 for 8 and 21.5).
 *     Decode on 2 threads 1.11x faster with 8 where memory gave ~67 GB/s, unchanged (0.995x) where it gave 42-50;
 *     16 rows, or 8 with two vectors per row a step, were slower than 8.</li>
 * <li>Zen 4 (AMD family 25): four rows side by side 14 GB/s against 27 for one row after another.</li>
 * <li>Intel Xeon (family 6, model 167 as KVM reports it; AVX-512, AMX): {@code MatvecRowsPair} 14.2 GB/s for 8 rows
 *     against 13.9 for one (1.02x; streaming sum 16.5); the decode on 2 threads 76% of the read bound with 8 against
 *     81% with one, two runs each taking turns (2026-12-02), so one row.</li>
 * </ul>
 * Other CPUs (not measured) keep the one-row default. {@code -Djgpt.matvec.rows=1} or {@code 8} overrides.
 * Either way each output is the same chain of FMAs, so the choice never changes a result's bits.
 */
public final class MatvecRows {
    /** 1 or 8. */
    public static final int SIDE_BY_SIDE = choose();

    private MatvecRows() {}

    private static int choose() {
        String set = System.getProperty("jgpt.matvec.rows");
        if (set != null) {
            if (!set.equals("1") && !set.equals("8")) {
                throw new IllegalArgumentException("-Djgpt.matvec.rows must be 1 or 8, got " + set);
            }
            return Integer.parseInt(set);
        }
        return CpuInfo.HERE.amdFamily() >= 26 ? 8 : 1;
    }
}
