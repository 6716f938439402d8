package dev.jgpt.spark;

import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;
import dev.jgpt.model.io.SafeTensors;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.model.optim.LrSchedule;
import dev.jgpt.train.StepEngine;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainStep;
import dev.jgpt.train.Trainer;
import dev.jgpt.train.TrainingDivergedException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * {@code --sync diloco}: DiLoCo (Douillard et al. 2023, Algorithm 1). A round covers steps [kH, kH + H):
 * the driver broadcasts the shared weights θ; worker w starts from θ with its own inner AdamW state and takes
 * H ordinary AdamW steps on its own micro-batches (w·A .. w·A + A − 1 of each step, as in sync mode); the
 * driver averages the deltas Δ = θ − θ_w over the workers ({@link TreeSum}) and takes an outer Nesterov
 * step: b ← μ·b + Δ, θ ← θ − lr_outer·(Δ + μ·b) (PyTorch's SGD with nesterov=True). Weights cross the
 * network once per round instead of once per step.
 *
 * <p><b>Where the inner optimiser state lives.</b> Worker states are the partitions of an RDD: round k's
 * RDD is round k−1's mapped by the round, persisted in executor memory. Spark runs worker w's next task
 * where its partition is cached (process-local), so the state stays with its executor and never crosses the
 * network. Where Spark does not keep it (an executor lost, a block evicted) Spark rebuilds the partition
 * from its lineage: the rounds since the last root are recomputed from the same broadcast weights and
 * seeds, which yields the same state bit for bit. Every evaluation interval (and at each checkpoint) the
 * states are collected to the driver, written with the checkpoint, and the lineage re-rooted on them, so a
 * recomputation never reaches back further than that and old weight broadcasts can go.
 */
final class DilocoSteps implements StepEngine {
    static final String MOMENTUM = "outer_momentum.safetensors";

    /** A worker's inner AdamW state: moments (null before its first step) and steps taken. */
    record WorkerState(int worker, int steps, float[] m, float[] v) implements Serializable {
    }

    /** What a round leaves per worker: its state, and (until re-rooted) its delta and per-step loss and norm. */
    record Round(WorkerState state, float[] delta, double[] stats) implements Serializable {
    }

    private final JavaSparkContext sc;
    private final WorkerSpec spec;
    private final TrainConfig cfg;
    private final GPT model;
    private final List<Param> params;
    private final LrSchedule schedule;
    private final int workers, syncEvery;
    private final float outerLr, outerMomentum;
    private final float[] momentum;
    private final Traffic traffic;
    private final List<Broadcast<?>> lineageBroadcasts = new ArrayList<>();
    private JavaRDD<Round> states;
    private boolean statesCached;
    private List<WorkerState> rootStates;
    private int step;
    private AdamW scratch;   // reads and writes worker states in AdamW's checkpoint format

    DilocoSteps(JavaSparkContext sc, WorkerSpec spec, GPT model, TrainConfig cfg, Traffic traffic) {
        this.sc = sc;
        this.spec = spec;
        this.cfg = cfg;
        this.model = model;
        this.params = model.parameters();
        this.schedule = cfg.schedule();
        this.workers = cfg.workers();
        this.syncEvery = cfg.syncEvery();
        this.outerLr = (float) cfg.outerLr();
        this.outerMomentum = (float) cfg.outerMomentum();
        this.momentum = new float[Flat.size(params)];
        this.traffic = traffic;
        List<WorkerState> fresh = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            fresh.add(new WorkerState(w, 0, null, null));
        }
        root(fresh);
    }

    @Override
    public List<Trainer.StepStats> advance(int from, int limit) {
        int end = Math.min(limit, (from / syncEvery + 1) * syncEvery);
        float[] theta = Flat.weights(params);
        Broadcast<float[]> shared = sc.broadcast(theta);
        traffic.broadcast(4L * theta.length, workers);
        lineageBroadcasts.add(shared);
        WorkerSpec spec = this.spec;
        JavaRDD<Round> next = states.map(prev -> round(spec, shared, prev.state(), from, end))
                .persist(StorageLevel.MEMORY_ONLY());
        int n = workers;
        TreeSum sum = next.map(r -> TreeSum.leaf(n, r.state().worker(), r.delta(), r.stats()))
                .treeAggregate(TreeSum.empty(workers), TreeSum::add, TreeSum::merge);
        if (statesCached) {
            states.unpersist(false);
        }
        states = next;
        statesCached = true;
        step = end;

        int h = end - from;
        double[] stats = sum.stats();
        List<Trainer.StepStats> taken = new ArrayList<>();
        for (int k = 0; k < h; k++) {
            double loss = stats[k] / workers, norm = stats[h + k] / workers;
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                throw new TrainingDivergedException(from + k, String.format(Locale.ROOT,
                        "the mean loss over the workers is %s, the mean gradient norm %s", loss, norm), null);
            }
            taken.add(new Trainer.StepStats(from + k, loss, norm, schedule.lr(from + k)));
        }
        outerStep(theta, sum.values());
        Flat.setWeights(params, theta);
        if (end % cfg.evalInterval() == 0 || end == cfg.iters()) {
            reRoot();
        }
        return taken;
    }

    /** Nesterov momentum on the mean delta (the outer gradient), in place on {@code theta}. */
    private void outerStep(float[] theta, float[] deltaSum) {
        for (int i = 0; i < theta.length; i++) {
            float g = deltaSum[i] / workers;
            momentum[i] = outerMomentum * momentum[i] + g;
            theta[i] -= outerLr * (g + outerMomentum * momentum[i]);
        }
    }

    /** Worker {@code prev.worker()}'s round over steps [from, end) from the shared weights. Runs on an executor. */
    private static Round round(WorkerSpec spec, Broadcast<float[]> shared, WorkerState prev, int from, int end) {
        if (prev.steps() != from) {
            throw new IllegalStateException("worker " + prev.worker() + "'s inner state has taken " + prev.steps()
                    + " steps, but the round starts at step " + from);
        }
        Replica r = Replica.borrow(spec);
        try {
            float[] theta = shared.value();
            Flat.setWeights(r.params, theta);
            AdamW inner = r.step.optimizer();
            if (prev.m() == null) {
                Flat.setMoments(inner, r.params, false, new float[theta.length]);
                Flat.setMoments(inner, r.params, true, new float[theta.length]);
            } else {
                Flat.setMoments(inner, r.params, false, prev.m());
                Flat.setMoments(inner, r.params, true, prev.v());
            }
            inner.setSteps(prev.steps());
            int w = prev.worker(), accum = r.config.gradAccum(), h = end - from;
            double[] stats = new double[2 * h];
            for (int k = 0; k < h; k++) {
                WorkerSpec.injectFault(from + k, w);
                try {
                    Trainer.StepStats s = r.step.update(from + k, r.step.gradient(from + k, w * accum, accum), accum);
                    stats[k] = s.loss();
                    stats[h + k] = s.gradNorm();
                } catch (TrainingDivergedException e) {
                    Arrays.fill(stats, k, h, Double.NaN);   // the driver stops the run at this step
                    Arrays.fill(stats, h + k, 2 * h, Double.NaN);
                    break;
                }
            }
            float[] local = Flat.weights(r.params);
            float[] delta = new float[theta.length];
            for (int i = 0; i < delta.length; i++) {
                delta[i] = theta[i] - local[i];
            }
            WorkerState state = new WorkerState(w, inner.steps(), Flat.moments(inner, r.params, false),
                    Flat.moments(inner, r.params, true));
            return new Round(state, delta, stats);
        } finally {
            r.release();
        }
    }

    /** Collects the worker states to the driver and makes them the root of the lineage. */
    private void reRoot() {
        root(states.map(Round::state).collect());
    }

    private void root(List<WorkerState> collected) {
        List<Broadcast<?>> old = new ArrayList<>(lineageBroadcasts);
        lineageBroadcasts.clear();
        List<Broadcast<Round>> perWorker = new ArrayList<>();
        for (WorkerState s : collected) {
            Broadcast<Round> b = sc.broadcast(new Round(s, null, null));
            if (s.m() != null) {
                traffic.broadcast(8L * s.m().length, 1);
            }
            perWorker.add(b);
            lineageBroadcasts.add(b);
        }
        JavaRDD<Round> root = sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
                .map(w -> perWorker.get(w).value());
        if (statesCached) {
            states.unpersist(false);
            statesCached = false;
        }
        states = root;
        rootStates = List.copyOf(collected);
        old.forEach(b -> b.destroy());
    }

    @Override
    public void save(Path stateDir) throws IOException {
        if (statesCached) {
            reRoot();   // a checkpoint between evaluations (an interrupt): collect the states now
        }
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        int at = 0;
        for (Param p : params) {
            tensors.put(p.name, new SafeTensors.Tensor(p.name, p.shape, Arrays.copyOfRange(momentum, at, at + p.size())));
            at += p.size();
        }
        SafeTensors.write(stateDir.resolve(MOMENTUM), tensors, Map.of("step", Integer.toString(step)));
        for (WorkerState s : rootStates) {
            AdamW a = scratch();
            Flat.setMoments(a, params, false, s.m() == null ? new float[momentum.length] : s.m());
            Flat.setMoments(a, params, true, s.v() == null ? new float[momentum.length] : s.v());
            a.setSteps(s.steps());
            a.save(stateDir.resolve(workerFile(s.worker())));
        }
    }

    @Override
    public void load(Path stateDir, int step) throws IOException {
        if (step % syncEvery != 0) {
            throw new IllegalArgumentException("cannot resume " + stateDir.getParent() + " with --sync diloco: step "
                    + step + " is not at a round boundary (a multiple of sync-every " + syncEvery + ")");
        }
        Path file = stateDir.resolve(MOMENTUM);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("cannot resume " + stateDir.getParent() + ": " + file
                    + " is missing (was this run trained with --sync diloco?)");
        }
        Map<String, SafeTensors.Tensor> saved = SafeTensors.read(file);
        int at = 0;
        for (Param p : params) {
            SafeTensors.Tensor t = saved.get(p.name);
            if (t == null || !Arrays.equals(t.shape(), p.shape)) {
                throw new IOException(file + ": the outer momentum of " + p.name + " is missing or has the wrong shape");
            }
            System.arraycopy(t.data(), 0, momentum, at, p.size());
            at += p.size();
        }
        List<WorkerState> loaded = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            AdamW a = scratch();
            a.load(stateDir.resolve(workerFile(w)));
            if (a.steps() != step) {
                throw new IllegalArgumentException("cannot resume " + stateDir.getParent() + ": worker " + w
                        + "'s inner optimizer has taken " + a.steps() + " steps but the train state is at step " + step);
            }
            loaded.add(new WorkerState(w, step, Flat.moments(a, params, false), Flat.moments(a, params, true)));
        }
        this.step = step;
        root(loaded);
    }

    static String workerFile(int w) {
        return String.format(Locale.ROOT, "inner_optimizer_worker%03d.safetensors", w);
    }

    private AdamW scratch() {
        if (scratch == null) {
            scratch = TrainStep.optimizer(model, cfg);
        }
        return scratch;
    }

    @Override
    public void close() {
        if (statesCached) {
            states.unpersist(false);
        }
        lineageBroadcasts.forEach(b -> b.destroy());
    }
}
