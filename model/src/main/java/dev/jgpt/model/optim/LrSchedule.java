package dev.jgpt.model.optim;

/**
 * The learning-rate schedule, nanoGPT's: linear warmup to {@code maxLr} over {@code warmup} steps, then
 * a cosine decay to {@code minLr} at {@code decayIters}, then {@code minLr}. With minLr = maxLr it is
 * warmup then constant ({@link #constantAfterWarmup}).
 */
public record LrSchedule(double maxLr, double minLr, int warmup, int decayIters) {

    public LrSchedule {
        if (!(maxLr > 0) || minLr < 0 || minLr > maxLr || warmup < 0 || decayIters < 0) {
            throw new IllegalArgumentException("lr schedule: need 0 <= min-lr <= lr, lr > 0, warmup >= 0 and decay >= 0; got lr="
                    + maxLr + ", min-lr=" + minLr + ", warmup=" + warmup + ", decay=" + decayIters);
        }
    }

    /** Linear warmup over {@code warmup} steps (none for 0), then {@code lr} for good. */
    public static LrSchedule constantAfterWarmup(double lr, int warmup) {
        return new LrSchedule(lr, lr, warmup, warmup);
    }

    /** The learning rate of 0-based step {@code step}. */
    public double lr(int step) {
        if (step < warmup) {
            // (step + 1) / (warmup + 1), as nanoGPT: the first step does not run at lr 0.
            return maxLr * (step + 1) / (warmup + 1);
        }
        if (step >= decayIters) {
            return minLr;
        }
        double ratio = (double) (step - warmup) / (decayIters - warmup);
        double coeff = 0.5 * (1.0 + StrictMath.cos(Math.PI * ratio)); // StrictMath: the same bits on every JVM
        return minLr + coeff * (maxLr - minLr);
    }
}
