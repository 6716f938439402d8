package dev.jgpt.spark;

import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;
import dev.jgpt.train.Batcher;
import dev.jgpt.train.LocalSteps;
import dev.jgpt.train.StepEngine;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.TrainStep;
import dev.jgpt.train.Trainer;
import dev.jgpt.train.TrainingDivergedException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * {@code --sync step}: synchronous data parallelism. Each step the driver broadcasts the weights; worker
 * {@code w} computes the gradient of micro-batches {@code w·A .. w·A + A − 1} of the step (A = grad-accum),
 * exactly the micro-batches one process with grad-accum N·A would compute; the gradients are summed by
 * Spark's {@code treeAggregate} in a fixed tree ({@link TreeSum}); the driver then takes the one AdamW
 * step ({@link TrainStep#update}) that process would take. Its checkpoints are ordinary ones (AdamW state).
 */
final class SyncSteps implements StepEngine {
    private final JavaSparkContext sc;
    private final WorkerSpec spec;
    private final List<Param> params;
    private final TrainStep driver;
    private final JavaRDD<Integer> workers;
    private final int workerCount, microBatches;
    private final Traffic traffic;

    SyncSteps(JavaSparkContext sc, WorkerSpec spec, GPT model, TrainConfig cfg, TrainData data, Traffic traffic) {
        this.sc = sc;
        this.spec = spec;
        this.params = model.parameters();
        this.driver = new TrainStep(model, cfg, new Batcher(data.train, data.val, cfg.batchSize(), cfg.blockSize(),
                cfg.seed()), TrainStep.optimizer(model, cfg));
        this.workers = sc.parallelize(IntStream.range(0, cfg.workers()).boxed().toList(), cfg.workers());
        this.workerCount = cfg.workers();
        this.microBatches = cfg.workers() * cfg.gradAccum();
        this.traffic = traffic;
    }

    @Override
    public List<Trainer.StepStats> advance(int from, int limit) {
        int step = from;
        Broadcast<float[]> weights = sc.broadcast(Flat.weights(params));
        traffic.broadcast(4L * Flat.size(params), workerCount);
        WorkerSpec spec = this.spec;
        TreeSum sum;
        try {
            sum = workers.map(w -> gradient(spec, weights, step, w))
                    .treeAggregate(TreeSum.empty(workerCount), TreeSum::add, TreeSum::merge);
        } finally {
            weights.destroy();
        }
        Flat.setGrads(params, sum.values());
        return List.of(driver.update(step, sum.stats()[0], microBatches));
    }

    /** Worker {@code w}'s share of step {@code step}: its gradient sum and loss sum. Runs on an executor. */
    private static TreeSum gradient(WorkerSpec spec, Broadcast<float[]> weights, int step, int w) {
        Replica r = Replica.borrow(spec);
        try {
            WorkerSpec.injectFault(step, w);
            Flat.setWeights(r.params, weights.value());
            int accum = r.config.gradAccum();
            double loss;
            try {
                loss = r.step.gradient(step, w * accum, accum);
            } catch (TrainingDivergedException e) {
                loss = Double.NaN;   // the driver's update stops the run at this step, naming it
            }
            return TreeSum.leaf(r.config.workers(), w, Flat.grads(r.params), new double[] {loss});
        } finally {
            r.release();
        }
    }

    @Override
    public void save(Path stateDir) throws IOException {
        driver.optimizer().save(stateDir.resolve(dev.jgpt.train.Checkpoint.OPTIMIZER));
    }

    @Override
    public void load(Path stateDir, int step) throws IOException {
        LocalSteps.loadOptimizer(driver.optimizer(), stateDir, step);
    }
}
