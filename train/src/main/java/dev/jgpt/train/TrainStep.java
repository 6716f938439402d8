package dev.jgpt.train;

import dev.jgpt.model.GPT;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.model.optim.LrSchedule;

/**
 * The two halves of one optimizer step, shared by every way of taking steps ({@link StepEngine}): the
 * gradient of some of the step's micro-batches, and the update from a gradient sum. Trainer's own step is
 * {@code gradient(s, 0, gradAccum)} then {@code update}; a data-parallel worker computes
 * {@code gradient(s, w·gradAccum, gradAccum)} and the update sees the sum over all workers.
 */
public final class TrainStep {
    private final GPT model;
    private final TrainConfig cfg;
    private final Batcher batcher;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final int[] x, y;

    /** Steps of {@code model} on {@code batcher}'s batches; {@code optimizer} (over the model's parameters) updates. */
    public TrainStep(GPT model, TrainConfig cfg, Batcher batcher, AdamW optimizer) {
        this.model = model;
        this.cfg = cfg;
        this.batcher = batcher;
        this.optimizer = optimizer;
        this.schedule = cfg.schedule();
        this.x = new int[cfg.batchSize() * cfg.blockSize()];
        this.y = new int[cfg.batchSize() * cfg.blockSize()];
    }

    /** AdamW as nanoGPT configures it: decay on the 2-D weights and embeddings only. */
    public static AdamW optimizer(GPT model, TrainConfig cfg) {
        return new AdamW(model.parameters(), cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public GPT model() {
        return model;
    }

    /**
     * Sets the model's gradients to the sum of the gradients of micro-batches {@code first} .. {@code first +
     * count − 1} of 0-based step {@code step} (each the gradient of that micro-batch's mean loss) and returns
     * the sum of their losses. Batches and dropout masks come from (seed, step, micro-batch), the step's
     * {@link LayerDrop} blocks (skipped in forward and backward) from (seed, step).
     */
    public double gradient(int step, int first, int count) {
        int B = cfg.batchSize(), T = cfg.blockSize();
        model.setTraining(true);
        model.zeroGrad();
        double lossSum = 0;
        // LayerDrop: one draw per step, the same for every micro-batch (and every worker); off again for evaluation
        // the model's own depth: with --init-from it comes from the checkpoint, not from the run's flags
        model.skipBlocks(LayerDrop.mask(cfg.layerDrop(), model.blocks().size(), cfg.seed(), step));
        try {
            for (int micro = first; micro < first + count; micro++) {
                batcher.trainBatch(step, micro, x, y);
                model.seedDropout(Seeds.derive(cfg.seed(), Seeds.DROPOUT, step, micro));
                try {
                    lossSum += model.lossAndBackward(x, y, B, T);
                } catch (ArithmeticException nonFiniteLogits) { // the cross-entropy kernel's NaN/∞ guard
                    throw new TrainingDivergedException(step, "the loss is NaN (" + nonFiniteLogits.getMessage() + ")",
                            nonFiniteLogits);
                }
            }
        } finally {
            model.skipBlocks(null);
        }
        return lossSum;
    }

    /**
     * Applies step {@code step} from the model's gradients, which hold the sum over {@code microBatches}
     * micro-batches whose losses sum to {@code lossSum}: averages, clips, and takes one AdamW step. Throws
     * {@link TrainingDivergedException} (before changing any weight) if the loss or the gradient norm is not
     * finite.
     */
    public Trainer.StepStats update(int step, double lossSum, int microBatches) {
        double loss = lossSum / microBatches;
        if (!Double.isFinite(loss)) {
            throw new TrainingDivergedException(step, "the loss is " + loss, null);
        }
        if (microBatches > 1) {
            // lossAndBackward accumulates the gradient of each micro-batch's mean loss: average them.
            optimizer.scaleGradients(1f / microBatches);
        }
        double norm = optimizer.clipGradients(cfg.gradClip());
        if (!Double.isFinite(norm)) {
            throw new TrainingDivergedException(step, "the gradient norm is " + norm, null);
        }
        double lr = schedule.lr(step);
        optimizer.step(lr);
        return new Trainer.StepStats(step, loss, norm, lr);
    }
}
