package dev.jgpt.train;

import dev.jgpt.model.GPT;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The trainer's own engine: each step's micro-batches one after another in this process, then AdamW. */
public final class LocalSteps implements StepEngine {
    private final TrainStep steps;
    private final int accum;

    public LocalSteps(GPT model, TrainConfig cfg, TrainData data) {
        if (cfg.workers() > 1 || cfg.sync() != TrainConfig.Sync.STEP) {
            throw new IllegalArgumentException("this run trains with " + cfg.workers() + " workers (sync "
                    + cfg.sync().id() + "): it runs on Spark (jgpt train --spark MASTER)");
        }
        this.steps = new TrainStep(model, cfg, new Batcher(data.train, data.val, cfg.batchSize(), cfg.blockSize(),
                cfg.seed()), TrainStep.optimizer(model, cfg));
        this.accum = cfg.gradAccum();
    }

    @Override
    public List<Trainer.StepStats> advance(int from, int limit) {
        return List.of(steps.update(from, steps.gradient(from, 0, accum), accum));
    }

    @Override
    public void save(Path stateDir) throws IOException {
        steps.optimizer().save(stateDir.resolve(Checkpoint.OPTIMIZER));
    }

    @Override
    public void load(Path stateDir, int step) throws IOException {
        loadOptimizer(steps.optimizer(), stateDir, step);
    }

    /** Loads an AdamW state saved with a checkpoint at {@code step}, checking that it took that many steps. */
    public static void loadOptimizer(dev.jgpt.model.optim.AdamW optimizer, Path stateDir, int step) throws IOException {
        optimizer.load(stateDir.resolve(Checkpoint.OPTIMIZER));
        if (optimizer.steps() != step) {
            throw new IllegalArgumentException("cannot resume " + stateDir.getParent() + ": the optimizer state has taken "
                    + optimizer.steps() + " steps but the train state is at step " + step);
        }
    }
}
