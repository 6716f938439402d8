package dev.jgpt.study;

import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.optim.LrSchedule;
import dev.jgpt.model.ResidualLayout;

import java.util.Locale;

/**
 * One point of the stability grid: the model (layout, depth, width, init), the optimiser (AdamW with
 * this learning rate, optional linear warmup, optional clipping; no dropout, no decay schedule) and the
 * seed. {@code steps == 0} is an init-only probe: diagnostics at initialisation, no training.
 */
public record RunSpec(ResidualLayout layout, int depth, double lr, boolean warmup, InitScheme init, long seed,
                      int steps, int width, int heads, int batch, int seqLen, int warmupSteps, double clip,
                      double weightDecay, double beta1, double beta2) {

    public RunSpec {
        if (depth < 1 || width < 1 || heads < 1 || width % heads != 0) {
            throw new IllegalArgumentException("stability run: need depth >= 1 and width a multiple of heads, got depth "
                    + depth + ", width " + width + ", heads " + heads);
        }
        if (steps < 0 || batch < 1 || seqLen < 1 || !(lr > 0) || warmupSteps < 0 || clip < 0) {
            throw new IllegalArgumentException("stability run: need steps >= 0, batch >= 1, seq >= 1, lr > 0, warmup >= 0, clip >= 0; got steps "
                    + steps + ", batch " + batch + ", seq " + seqLen + ", lr " + lr + ", warmup " + warmupSteps + ", clip " + clip);
        }
    }

    public GPTConfig modelConfig(int vocabSize) {
        return new GPTConfig(vocabSize, seqLen, depth, heads, width, true, 0f, 1e-5f, layout, init);
    }

    public boolean probeOnly() {
        return steps == 0;
    }

    /** Linear warmup over warmupSteps when warmup is on, then this run's constant rate. */
    public LrSchedule schedule() {
        return LrSchedule.constantAfterWarmup(lr, warmup ? warmupSteps : 0);
    }

    /** A short label: "post-ln L12 lr1e-03 warm xavier s2". */
    public String label() {
        return String.format(Locale.ROOT, "%s L%d lr%.0e %s %s s%d", layout.id(), depth, lr,
                warmup ? "warmup" : "no-warmup", init.id(), seed);
    }
}
