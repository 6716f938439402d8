package dev.jgpt.study;

import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.optim.LrSchedule;
import dev.jgpt.model.ResidualLayout;

import java.util.Locale;

/**
 * One point of the stability grid: the model (layout, depth, width, init), the optimiser (AdamW with
 * this learning rate, optional linear warmup, optional clipping; no dropout, no decay schedule), LayerDrop
 * during training ({@code layerDrop}, 0 = off) and the seed. {@code steps == 0} is an init-only probe:
 * diagnostics at initialisation, no training. {@code lesionDraws > 0} adds a lesion phase after training
 * ({@link Lesions}, that many subsets per k). {@code landscapeIterations > 0} adds a landscape phase at init and after
 * training ({@link ModelLandscape}: the Hessian's extremes by that many power-iteration steps per end, and the loss
 * along a filter-normalised direction, on the probe batch).
 */
public record RunSpec(ResidualLayout layout, int depth, double lr, boolean warmup, InitScheme init, long seed,
                      int steps, int width, int heads, int batch, int seqLen, int warmupSteps, double clip,
                      double weightDecay, double beta1, double beta2, double layerDrop, int lesionDraws,
                      int landscapeIterations) {

    public RunSpec {
        if (depth < 1 || width < 1 || heads < 1 || width % heads != 0) {
            throw new IllegalArgumentException("stability run: need depth >= 1 and width a multiple of heads, got depth "
                    + depth + ", width " + width + ", heads " + heads);
        }
        if (steps < 0 || batch < 1 || seqLen < 1 || !(lr > 0) || warmupSteps < 0 || clip < 0) {
            throw new IllegalArgumentException("stability run: need steps >= 0, batch >= 1, seq >= 1, lr > 0, warmup >= 0, clip >= 0; got steps "
                    + steps + ", batch " + batch + ", seq " + seqLen + ", lr " + lr + ", warmup " + warmupSteps + ", clip " + clip);
        }
        if (!(layerDrop >= 0 && layerDrop < 1) || lesionDraws < 0 || landscapeIterations < 0) {
            throw new IllegalArgumentException("stability run: need 0 <= layer drop < 1, lesion draws >= 0 and landscape "
                    + "iterations >= 0; got " + layerDrop + ", " + lesionDraws + " and " + landscapeIterations);
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

    /** The same run without its lesion and landscape phases: what two specs must share to train the same model. */
    public RunSpec trainingOnly() {
        return withPhases(0, 0);
    }

    /** The same run with these lesion and landscape phases. */
    public RunSpec withPhases(int draws, int landscape) {
        return new RunSpec(layout, depth, lr, warmup, init, seed, steps, width, heads, batch, seqLen, warmupSteps, clip,
                weightDecay, beta1, beta2, layerDrop, draws, landscape);
    }

    public RunSpec withLesionDraws(int draws) {
        return withPhases(draws, landscapeIterations);
    }

    /** A short label: "post-ln L12 lr1e-03 no-warmup xavier 500 steps s2", with clipping and LayerDrop when on. */
    public String label() {
        return String.format(Locale.ROOT, "%s L%d lr%.0e %s %s %d steps%s%s s%d", layout.id(), depth, lr,
                warmup ? "warmup" : "no-warmup", init.id(), steps, clip > 0 ? " clip " + StudyGrid.lr(clip) : "",
                layerDrop > 0 ? " layer-drop " + StudyGrid.lr(layerDrop) : "", seed);
    }
}
