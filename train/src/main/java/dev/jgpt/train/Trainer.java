package dev.jgpt.train;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.Generator;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Trains a GPT from scratch as nanoGPT's train.py does: random windows, AdamW with decay on the
 * 2-D weights only, warmup + cosine learning rate, gradient accumulation and clipping, periodic
 * evaluation of train and val loss, crash-safe checkpoints, and samples at the end.
 *
 * <p>Deterministic for a seed and a thread count: batches, dropout masks and samples are derived
 * from (seed, step, index), so {@link #resume} continues exactly the loss curve of an uninterrupted
 * run. Start one with {@link #start} or {@link #resume}, then {@link #run}; benchmarks may call
 * {@link #step()} directly. The steps themselves are taken by a {@link StepEngine}: {@link LocalSteps} in
 * this process, or the spark module's data-parallel engines.
 */
public final class Trainer implements AutoCloseable {
    /** Callbacks for progress display; every method is optional. */
    public interface Listener {
        default void onStart(Trainer trainer, int startStep) {
        }

        /** After each optimizer step; {@code tokensPerS} is this session's mean training throughput. */
        default void onStep(StepStats stats, double tokensPerS) {
        }

        default void onEval(MetricsLog.Point point) {
        }

        default void onCheckpoint(int step, Path dir) {
        }

        default void onSample(int index, String text) {
        }
    }

    /** One optimizer step: its 0-based index, mean loss over the micro-batches, grad norm before clipping, lr. */
    public record StepStats(int step, double loss, double gradNorm, double lr) {
    }

    /**
     * The outcome of {@link #run}. Throughput counts only time spent in optimizer steps (not evaluation
     * or checkpoints) in this session; {@code mfu} divides its FLOP rate (6N + 12·L·d·T per token) by
     * {@code peakFlops}.
     */
    public record Result(int steps, double trainLoss, double valLoss, double tokensPerS, double flopsPerToken,
                         double trainSeconds, double wallSeconds, List<String> samples) {
        public double mfu(double peakFlops) {
            return tokensPerS * flopsPerToken / peakFlops;
        }
    }

    /** Text written after training: {@code samples.txt}. */
    public static final String SAMPLES_FILE = "samples.txt";

    private final TrainConfig cfg;
    private final TrainData data;
    private final boolean ownsData;
    private final Path out;
    private final GPT model;
    private final Batcher batcher;
    private final StepEngine engine;
    private final int[] x, y;
    private final MetricsLog metrics;
    private final boolean resumed;
    private final double elapsedBefore;
    private int step;
    private int lastCheckpointStep = -1;
    private StepStats last;
    private long sessionStart;
    private RunDirectory runDirectory;   // a fresh run's --out, until it has a checkpoint

    private Trainer(TrainConfig cfg, TrainData data, boolean ownsData, Path out, GPT model, StepEngine engine,
                    int step, double elapsedBefore, boolean resumed) {
        this.cfg = cfg;
        this.data = data;
        this.ownsData = ownsData;
        this.out = out;
        this.model = model;
        this.engine = engine;
        this.step = step;
        this.elapsedBefore = elapsedBefore;
        this.resumed = resumed;
        this.batcher = new Batcher(data.train, data.val, cfg.batchSize(), cfg.blockSize(), cfg.seed());
        this.x = new int[cfg.batchSize() * cfg.blockSize()];
        this.y = new int[cfg.batchSize() * cfg.blockSize()];
        this.metrics = out == null ? null : new MetricsLog(out);
        this.sessionStart = System.nanoTime();
        if (resumed) {
            lastCheckpointStep = step;
        }
        Parallel.setThreads(cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors());
    }

    /**
     * A fresh run on {@code data} (owned by the caller). {@code out} receives checkpoints, metrics, the plot
     * and samples; {@code null} keeps everything in memory. {@code out} must be new, empty, or hold a run;
     * one that holds a run is refused unless {@code overwrite}, and then the old run is replaced only once
     * this one has written its first checkpoint ({@link RunDirectory}). A configuration too large for the
     * heap is refused before anything is allocated or changed.
     */
    public static Trainer start(TrainConfig cfg, TrainData data, Path out, boolean overwrite) throws IOException {
        return start(cfg, data, out, overwrite, LocalSteps::new);
    }

    /** As {@link #start(TrainConfig, TrainData, Path, boolean)}, taking the steps with {@code engine}'s engine. */
    public static Trainer start(TrainConfig cfg, TrainData data, Path out, boolean overwrite, StepEngine.Factory engine)
            throws IOException {
        if (out != null) {
            RunDirectory.check(out, overwrite);
        }
        TrainConfig c = absolutePaths(cfg);
        GPTConfig mc = c.modelConfig(data.tokenizer.vocabSize());
        Batcher.checkSplits(data.train, data.val, c.blockSize());
        TrainingMemory.of(mc, c.batchSize(), c.blockSize(), c.dropout()).checkFits();
        GPT model = new GPT(mc, c.seed());
        Trainer trainer = new Trainer(c, data, false, out, model, engine.create(model, c, data), 0, 0, false);
        if (out != null) {
            trainer.runDirectory = RunDirectory.claim(out, overwrite);
        }
        return trainer;
    }

    /**
     * Continues the run checkpointed in {@code out}, on the data it was trained on. {@code change} may alter
     * only what does not change the training itself: iters (to extend a run), threads, eval-interval,
     * eval-iters and the samples; anything else is refused with the differing knob named.
     */
    public static Trainer resume(Path out, UnaryOperator<TrainConfig> change) throws IOException {
        return resume(out, null, change);
    }

    /**
     * As {@link #resume(Path, UnaryOperator)}, on {@code data} (owned by the caller) instead of the saved
     * data path; its token counts must match the saved run's. {@code null} loads the saved data.
     */
    public static Trainer resume(Path out, TrainData given, UnaryOperator<TrainConfig> change) throws IOException {
        return resume(out, given, change, LocalSteps::new);
    }

    /** As {@link #resume(Path, TrainData, UnaryOperator)}, taking the steps with {@code engine}'s engine. */
    public static Trainer resume(Path out, TrainData given, UnaryOperator<TrainConfig> change,
                                 StepEngine.Factory engine) throws IOException {
        Checkpoint.Loaded ck = Checkpoint.load(out);
        TrainConfig saved = ck.state().config();
        TrainConfig c = change.apply(saved);
        checkResumable(saved, c);
        TrainData data = given != null ? given : TrainData.load(c.data(), c.tokenizer());
        try {
            TrainState.DataInfo now = data.info(), then = ck.state().data();
            if (now.vocabSize() != then.vocabSize() || now.trainTokens() != then.trainTokens()
                    || now.valTokens() != then.valTokens()) {
                throw new IllegalArgumentException("cannot resume " + out + ": its data was " + then
                        + " but " + c.data() + " now gives " + now);
            }
            GPTConfig expected = c.modelConfig(now.vocabSize());
            if (!expected.equals(ck.model().config)) {
                throw new IllegalArgumentException("cannot resume " + out + ": " + ModelDir.CONFIG + " describes "
                        + ck.model().config + " but the train state expects " + expected);
            }
            StepEngine steps = engine.create(ck.model(), c, data);
            try {
                steps.load(ck.stateDir(), ck.state().step());
            } catch (IOException | RuntimeException e) {
                steps.close();
                throw e;
            }
            if (metricsExist(out)) {
                new MetricsLog(out).truncateAfter(ck.state().step());
            }
            return new Trainer(c, data, given == null, out, ck.model(), steps, ck.state().step(),
                    ck.state().elapsedS(), true);
        } catch (IOException | RuntimeException e) {
            if (given == null) {
                data.close();
            }
            throw e;
        }
    }

    private static boolean metricsExist(Path out) {
        return Files.exists(out.resolve(MetricsLog.FILE_NAME));
    }

    private static void checkResumable(TrainConfig saved, TrainConfig wanted) {
        TrainConfig allowed = saved.toBuilder().iters(wanted.iters()).threads(wanted.threads())
                .evalInterval(wanted.evalInterval()).evalIters(wanted.evalIters()).samples(wanted.samples())
                .sampleTokens(wanted.sampleTokens()).temperature(wanted.temperature()).build();
        if (allowed.equals(wanted)) {
            return;
        }
        var a = saved.toJson();
        var b = wanted.toJson();
        List<String> diffs = new ArrayList<>();
        a.fieldNames().forEachRemaining(k -> {
            if (!a.get(k).equals(b.get(k))) {
                diffs.add(k + " (saved " + a.get(k) + ", asked " + b.get(k) + ")");
            }
        });
        throw new IllegalArgumentException("--resume continues the saved run; only iters, threads, eval-interval, "
                + "eval-iters and the sample settings may change, but these differ: " + String.join(", ", diffs));
    }

    /**
     * Fixes what the config leaves relative: data and tokenizer paths become absolute (a resume may run
     * elsewhere) and the cosine's end becomes explicit (extending a resumed run keeps the schedule).
     */
    private static TrainConfig absolutePaths(TrainConfig c) {
        TrainConfig.Builder b = c.toBuilder().lrDecayIters(c.decayIters());
        if (c.data() != null) {
            b.data(Path.of(c.data()).toAbsolutePath().normalize().toString());
        }
        if (c.tokenizer() != null && !c.tokenizer().equals("char")) {
            b.tokenizer(Path.of(c.tokenizer()).toAbsolutePath().normalize().toString());
        }
        return b.build();
    }

    public TrainConfig config() {
        return cfg;
    }

    public GPT model() {
        return model;
    }

    public TrainData data() {
        return data;
    }

    /** Optimizer steps completed. */
    public int currentStep() {
        return step;
    }

    public Path out() {
        return out;
    }

    /** Training FLOPs per token (nanoGPT's 6N + 12·L·d·T). */
    public double flopsPerToken() {
        return model.trainingFlopsPerToken(cfg.blockSize());
    }

    /**
     * One optimizer step (with {@link LocalSteps}: grad-accum micro-batches of forward + backward, gradient
     * averaging, clipping, AdamW). Throws {@link TrainingDivergedException} (before changing any weight) if the
     * loss or the gradient norm is not finite.
     */
    public StepStats step() {
        List<StepStats> taken = advance(step + 1);
        return taken.get(taken.size() - 1);
    }

    /** Has the engine take steps up to at most {@code limit}; a divergence names this run's last checkpoint. */
    private List<StepStats> advance(int limit) {
        List<StepStats> taken;
        try {
            taken = engine.advance(step, limit);
        } catch (TrainingDivergedException e) {
            throw e.in(out, lastCheckpointStep);
        }
        last = taken.get(taken.size() - 1);
        step = last.step() + 1;
        return taken;
    }

    /** Mean loss over {@code evalIters} fixed batches of each split, dropout off: {train, val}. */
    public double[] evaluate() {
        model.setTraining(false);
        double[] means = new double[2];
        Batcher.Split[] splits = Batcher.Split.values();
        for (int k = 0; k < splits.length; k++) {
            double sum = 0;
            for (int i = 0; i < cfg.evalIters(); i++) {
                batcher.evalBatch(splits[k], i, x, y);
                try {
                    sum += model.loss(x, y, cfg.batchSize(), cfg.blockSize());
                } catch (ArithmeticException nonFiniteLogits) {
                    throw new TrainingDivergedException(step, "the evaluation loss is NaN ("
                            + nonFiniteLogits.getMessage() + ")", out, lastCheckpointStep, nonFiniteLogits);
                }
            }
            means[k] = sum / cfg.evalIters();
        }
        return means;
    }

    /** Trains to {@code iters}, evaluating and checkpointing every {@code evalInterval} steps and at the end. */
    public Result run(Listener listener) throws IOException {
        sessionStart = System.nanoTime();
        int startStep = step;
        listener.onStart(this, startStep);
        long trainNanos = 0, intervalNanos = 0, intervalTokens = 0;
        double[] losses = {Double.NaN, Double.NaN};
        boolean first = true;
        while (true) {
            boolean evalHere = step % cfg.evalInterval() == 0 || step == cfg.iters();
            // A resumed run's first step was evaluated and checkpointed by the session that saved it.
            if (evalHere && !(first && resumed)) {
                losses = evaluate();
                double tps = intervalNanos > 0 ? intervalTokens / (intervalNanos / 1e9) : Double.NaN;
                MetricsLog.Point p = new MetricsLog.Point(step, losses[0], losses[1],
                        last == null ? Double.NaN : last.lr(), last == null ? Double.NaN : last.gradNorm(),
                        last == null ? Double.NaN : last.loss(), tps, elapsed());
                if (metrics != null) {
                    metrics.append(p);
                }
                listener.onEval(p);
                if (out != null) {
                    checkpoint();
                    listener.onCheckpoint(step, out);
                }
                intervalNanos = 0;
                intervalTokens = 0;
            }
            first = false;
            if (step >= cfg.iters()) {
                break;
            }
            // Up to the next evaluation: an engine that works in rounds (DiLoCo) takes a whole round here.
            int limit = Math.min(cfg.iters(), (step / cfg.evalInterval() + 1) * cfg.evalInterval());
            long t0 = System.nanoTime();
            List<StepStats> taken = advance(limit);
            long dt = System.nanoTime() - t0;
            trainNanos += dt;
            intervalNanos += dt;
            intervalTokens += taken.size() * cfg.tokensPerStep();
            for (StepStats st : taken) {
                listener.onStep(st, (st.step() + 1 - startStep) * (double) cfg.tokensPerStep() / (trainNanos / 1e9));
            }
        }
        if (resumed && startStep == step && metrics != null) {
            List<MetricsLog.Point> pts = metrics.read();
            if (!pts.isEmpty()) {
                MetricsLog.Point p = pts.get(pts.size() - 1);
                losses = new double[] {p.trainLoss(), p.valLoss()};
            }
        }
        List<String> samples = samples(listener);
        if (out != null) {
            List<MetricsLog.Point> pts = metrics.read();
            if (!pts.isEmpty()) {
                LossPlot.write(pts, "jgpt " + model.config.nLayer() + "L " + model.config.nHead() + "H "
                        + model.config.nEmbd() + "d, T=" + cfg.blockSize() + ", B=" + cfg.batchSize(),
                        out.resolve(LossPlot.FILE_NAME));
            }
        }
        double trainSeconds = trainNanos / 1e9;
        double tps = trainSeconds > 0 ? (step - startStep) * (double) cfg.tokensPerStep() / trainSeconds : Double.NaN;
        return new Result(step, losses[0], losses[1], tps, flopsPerToken(), trainSeconds,
                (System.nanoTime() - sessionStart) / 1e9, samples);
    }

    private double elapsed() {
        return elapsedBefore + (System.nanoTime() - sessionStart) / 1e9;
    }

    /** Writes a checkpoint of the current step to {@code out}. */
    public void checkpoint() throws IOException {
        if (out == null) {
            throw new IllegalStateException("checkpoint: this run has no output directory");
        }
        TrainState state = new TrainState(step, elapsed(), cfg, data.info());
        Checkpoint.save(out, model, data.tokenizer, state, engine::save);
        lastCheckpointStep = step;
    }

    private List<String> samples(Listener listener) throws IOException {
        List<String> texts = new ArrayList<>();
        if (cfg.samples() == 0 || cfg.sampleTokens() == 0) {
            return texts;
        }
        model.setTraining(false);
        Generator generator = new Generator(model, data.tokenizer);
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < cfg.samples(); i++) {
            // Plain temperature sampling from the start token, as nanoGPT's sample.py; past the context it slides.
            GenerationOptions options = GenerationOptions.builder().maxTokens(cfg.sampleTokens())
                    .temperature((float) cfg.temperature()).topK(0).topP(1f).repeatPenalty(1f)
                    .seed(Seeds.derive(cfg.seed(), Seeds.SAMPLE, step, i)).stopAtEndOfText(false)
                    .overflow(GenerationOptions.Overflow.SLIDE).build();
            generator.reset();
            String text = generator.generate(new int[0], options, t -> { }).text();
            texts.add(text);
            listener.onSample(i, text);
            file.append("--- sample ").append(i + 1).append(" (step ").append(step).append(", temperature ")
                    .append(cfg.temperature()).append(") ---\n").append(text).append("\n\n");
        }
        if (out != null) {
            AtomicFiles.writeString(out.resolve(SAMPLES_FILE), file.toString());
        }
        return texts;
    }

    /** Ends the session; a fresh run that wrote no checkpoint leaves its --out as it found it. */
    @Override
    public void close() {
        engine.close();
        if (runDirectory != null) {
            runDirectory.release();
        }
        if (ownsData) {
            data.close();
        }
    }
}
