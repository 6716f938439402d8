package dev.jgpt.cli;

import dev.jgpt.model.FeedForwardKind;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Norm;
import dev.jgpt.model.Position;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.DiagnosticsLog;
import dev.jgpt.train.ProgressReporter;
import dev.jgpt.train.RunDirectory;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;
import dev.jgpt.train.TrainingDivergedException;
import dev.jgpt.common.Terminal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a GPT from scratch, or from a model's weights with --init-from (nanoGPT's train.py: "
                + "AdamW, warmup + cosine, clipping, gradient accumulation, dropout). The --out directory becomes a model directory plus "
                + "train_state/ for --resume, metrics.jsonl, loss.png and samples.txt.",
                "Knobs default to the preset's values; any option given overrides the preset.",
                "With --spark MASTER the steps run data-parallel on Apache Spark (local[N], spark://HOST:7077, ...): "
                        + "--workers tasks each compute --grad-accum micro-batches, synchronised every step (--sync step, "
                        + "the same run as --grad-accum workers x accum) or every --sync-every steps (--sync diloco).",
                "--out must be a new or empty folder, or hold a run (then --resume or --overwrite). With --overwrite "
                        + "the old run is replaced only once the new one has written its first checkpoint.",
                "Ctrl-C finishes the step under way, saves a checkpoint and exits (code 130); --resume continues."})
final class TrainCommand implements Callable<Integer> {
    static final int EXIT_DIVERGED = 3;

    @Option(names = "--preset", paramLabel = "NAME",
            description = "baby (nanoGPT's CPU run: L4 H4 d128 T64 B12, 2000 iters), baby-llama (the same with "
                    + "Llama's block: RMSNorm, RoPE, SwiGLU, no biases) or shakespeare-char (L6 H6 d384 T256 B64, "
                    + "5000 iters, dropout 0.2). Default: baby.")
    String preset;

    @Option(names = "--data", paramLabel = "PATH",
            description = "A text file, a directory made by 'jgpt prepare', or nothing for tiny Shakespeare.")
    String data;

    @Option(names = "--tokenizer", paramLabel = "char|PATH",
            description = "For a text file: 'char' (default) or a tokenizer.json (or a directory holding one).")
    String tokenizer;

    @Option(names = "--init-from", paramLabel = "DIR",
            description = "Start from the weights of a model directory (a jgpt run, or a Hugging Face GPT-2, Llama or "
                    + "Qwen2 checkpoint) instead of a new model: its config.json gives the shape and its tokenizer.json "
                    + "tokenizes the data; the preset and the other options give the training recipe.")
    Path initFrom;

    @Option(names = "--layers", paramLabel = "N") Integer layers;
    @Option(names = "--heads", paramLabel = "N") Integer heads;
    @Option(names = "--embd", paramLabel = "N", description = "Model width.") Integer embd;
    @Option(names = "--block", paramLabel = "T", description = "Context length.") Integer block;
    @Option(names = "--batch", paramLabel = "B", description = "Sequences per micro-batch.") Integer batch;
    @Option(names = "--iters", paramLabel = "N", description = "Optimizer steps.") Integer iters;
    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate.") Double lr;
    @Option(names = "--min-lr", paramLabel = "LR", description = "Learning rate at the end of the cosine.") Double minLr;
    @Option(names = "--warmup", paramLabel = "N", description = "Linear warmup steps.") Integer warmup;
    @Option(names = "--lr-decay-iters", paramLabel = "N", description = "Where the cosine ends (default: --iters).") Integer lrDecayIters;
    @Option(names = "--weight-decay", paramLabel = "WD", description = "AdamW decay, on 2-D weights only.") Double weightDecay;
    @Option(names = "--beta1", paramLabel = "B1") Double beta1;
    @Option(names = "--beta2", paramLabel = "B2") Double beta2;
    @Option(names = "--grad-clip", paramLabel = "NORM", description = "Clip the global gradient norm (0: off).") Double gradClip;
    @Option(names = "--grad-accum", paramLabel = "N", description = "Micro-batches per optimizer step.") Integer gradAccum;
    @Option(names = "--dropout", paramLabel = "P") Float dropout;
    @Option(names = "--layer-drop", paramLabel = "P", description = "LayerDrop: skip each block with probability P "
            + "at each training step (drawn from the seed and the step; off at evaluation; default 0).") Double layerDrop;
    @Option(names = "--bias", negatable = true, description = "Biases in linear and layer-norm layers (default on).") Boolean bias;
    @Option(names = "--eval-interval", paramLabel = "N", description = "Evaluate and checkpoint every N steps.") Integer evalInterval;
    @Option(names = "--eval-iters", paramLabel = "N", description = "Batches per split in each evaluation.") Integer evalIters;
    @Option(names = "--seed", paramLabel = "N") Long seed;
    @Mixin ThreadsOption threads;
    @Option(names = "--residual-layout", paramLabel = "L",
            description = "post-ln, pre-ln (default), sandwich, deepnorm, rezero, highway, dense, unet or none.") String layout;
    @Option(names = "--init", paramLabel = "S", description = "gpt2 (default) or xavier.") String init;
    @Option(names = "--norm", paramLabel = "N", description = "layernorm (default) or rmsnorm.") String norm;
    @Option(names = "--position", paramLabel = "P", description = "learned (default) or rope.") String position;
    @Option(names = "--mlp", paramLabel = "M", description = "gelu (default) or swiglu.") String mlp;
    @Option(names = "--kv-heads", paramLabel = "N",
            description = "Key/value heads for grouped-query attention; must divide --heads (default: --heads).") Integer kvHeads;
    @Option(names = "--mlp-hidden", paramLabel = "N",
            description = "Feed-forward width (default 4×embd for gelu, ⅔ of that for swiglu).") Integer mlpHidden;
    @Option(names = "--rope-theta", paramLabel = "θ", description = "RoPE base (default 10000).") Double ropeTheta;
    @Option(names = "--samples", paramLabel = "N", description = "Samples to print at the end (default 2).") Integer samples;
    @Option(names = "--sample-tokens", paramLabel = "N", description = "Tokens per sample (default 300).") Integer sampleTokens;
    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (default 0.8).") Double temperature;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Train on Apache Spark: local[N], spark://HOST:7077, yarn, k8s://... --data must then be a "
                    + "directory made by jgpt prepare that every executor can read.")
    String spark;
    @Option(names = "--workers", paramLabel = "N",
            description = "With --spark: data-parallel workers (Spark tasks), each computing --grad-accum micro-batches "
                    + "per step. Default: N of local[N].")
    Integer workers;
    @Option(names = "--sync", paramLabel = "MODE",
            description = "With --spark: step (default; gradients averaged every step) or diloco (each worker takes "
                    + "--sync-every AdamW steps alone, then an outer Nesterov step on the mean weight delta).")
    String sync;
    @Option(names = "--sync-every", paramLabel = "H", description = "With --sync diloco: inner steps per round (default 50).")
    Integer syncEvery;
    @Option(names = "--outer-lr", paramLabel = "LR", description = "With --sync diloco: outer learning rate (default 0.7).")
    Double outerLr;
    @Option(names = "--outer-momentum", paramLabel = "M", description = "With --sync diloco: outer Nesterov momentum (default 0.9).")
    Double outerMomentum;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Run directory. Default: out-PRESET, replaced by the next run without --out.")
    Path out;

    @Option(names = "--resume", description = "Continue the run saved in --out (only --iters, --threads, "
            + "--eval-interval, --eval-iters and the sample options may change).")
    boolean resume;

    @Option(names = "--overwrite", description = "Start over in an --out that already holds a run.")
    boolean overwrite;

    @Option(names = "--log-interval", paramLabel = "N", defaultValue = "0",
            description = "Also print the loss every N steps (default: only at evaluations).")
    int logInterval;

    @Option(names = "--peak-gflops", paramLabel = "G",
            description = "The machine's FP32 peak for the MFU figure (default: measured once here for the thread "
                    + "count, an FMA loop of a fraction of a second, and cached in ~/.cache/jgpt/" + MeasuredPeak.FILE + ").")
    Double peakGflops;

    @Option(names = "--diagnostics", paramLabel = "N", arity = "0..1", fallbackValue = "0",
            description = "Every N steps (default: the eval interval), log per-block gradient norms and the "
                    + "residual stream's RMS per layer to diagnostics.jsonl and stdout (as jgpt stability measures).")
    Integer diagnostics;

    @Override
    public Integer call() throws Exception {
        if (peakGflops != null && (!(peakGflops > 0) || Double.isInfinite(peakGflops))) {
            throw new IllegalArgumentException("--peak-gflops must be a positive number (the machine's FP32 peak "
                    + "in GFLOP/s), got " + peakGflops);
        }
        if (spark == null && (workers != null || sync != null || syncEvery != null || outerLr != null
                || outerMomentum != null)) {
            throw new IllegalArgumentException("--workers, --sync, --sync-every, --outer-lr and --outer-momentum "
                    + "need --spark MASTER");
        }
        if (spark != null) {
            SparkTrain.checkAvailable();
            if (workers == null && !resume) {
                workers = SparkTrain.defaultWorkers(spark);
            }
        }
        if (resume) {
            if (out == null) {
                throw new IllegalArgumentException("--resume needs --out DIR (the run to continue)");
            }
            if (preset != null || data != null || tokenizer != null || initFrom != null || overwrite) {
                throw new IllegalArgumentException("--resume continues the saved run: --preset, --data, --tokenizer, "
                        + "--init-from and --overwrite cannot be used with it");
            }
            if (spark != null) {
                try (SparkTrain s = SparkTrain.connect(spark, threads.given());
                     Trainer t = Trainer.resume(out, null, this::apply, s.engines())) {
                    return train(t, "resuming " + out + " at step " + t.currentStep(), s);
                }
            }
            try (Trainer t = Trainer.resume(out, this::apply)) {
                return train(t, "resuming " + out + " at step " + t.currentStep(), null);
            }
        }
        String name = preset == null ? TrainConfig.BABY : preset;
        TrainConfig cfg = apply(TrainConfig.preset(name));
        if (initFrom != null) {
            cfg = startFrom(cfg, initFrom);
        }
        Path dir = out != null ? out : Path.of("out-" + name.toLowerCase(Locale.ROOT));
        // The default directory is scratch space (as nanoGPT's out dir): a new run replaces the last one
        // there. A directory named with --out is only replaced with --overwrite.
        boolean replace = overwrite || out == null;
        RunDirectory.check(dir, replace);   // before the data loads: a wrong --out is refused at once
        if (out == null && dev.jgpt.train.Checkpoint.exists(dir)) {
            System.out.println("jgpt train: replacing the previous run in " + dir + " (name one with --out to keep it)");
        }
        if (spark != null) {
            dev.jgpt.spark.SparkTraining.tokenDirectory(cfg.data());   // before Spark starts
            try (SparkTrain s = SparkTrain.connect(spark, threads.given()); TrainData d = TrainData.load(cfg.data(), cfg.tokenizer());
                 Trainer t = Trainer.start(cfg, d, dir, replace, s.engines())) {
                return train(t, "preset " + name, s);
            }
        }
        try (TrainData d = TrainData.load(cfg.data(), cfg.tokenizer());
             Trainer t = Trainer.start(cfg, d, dir, replace)) {
            return train(t, "preset " + name, null);
        }
    }

    private int train(Trainer t, String what, SparkTrain spark) throws Exception {
        int firstStep = t.currentStep();
        TrainConfig c = t.config();
        var mc = t.model().config;
        System.out.printf(Locale.ROOT, "jgpt train: %s -> %s%n", what, t.out());
        System.out.printf(Locale.ROOT, "model: %s, %d layers, %d heads%s, %d wide, context %d, %s + %s + %s, %s init, "
                        + "dropout %s%s (%,d parameters)%n", mc.layout(), mc.nLayer(), mc.nHead(),
                mc.nKvHead() == mc.nHead() ? "" : " (" + mc.nKvHead() + " kv)", mc.nEmbd(), mc.blockSize(),
                mc.norm(), mc.position(), mc.mlp(), mc.init(), c.dropout(),
                c.layerDrop() > 0 ? ", layer drop " + c.layerDrop() : "", t.model().parameterCount());
        System.out.printf(Locale.ROOT, "data: %s (%s tokenizer, %,d tokens; train %,d, val %,d tokens)%n",
                t.data().source, t.data().tokenizer.kind(), t.data().tokenizer.vocabSize(),
                t.data().train.size(), t.data().val.size());
        System.out.printf(Locale.ROOT, "optimizer: AdamW lr %.2e -> %.2e (warmup %d, cosine to step %d), betas (%s, %s), "
                        + "weight decay %s, clip %s; batch %d x %d x accum %d = %,d tokens/step, %d steps, %d threads, seed %d%n",
                c.lr(), c.minLr(), c.warmup(), c.decayIters(), c.beta1(), c.beta2(), c.weightDecay(), c.gradClip(),
                c.batchSize(), c.blockSize(), c.gradAccum(), c.tokensPerStep(), c.iters(),
                dev.jgpt.kernel.Parallel.threads(), c.seed());
        if (spark != null) {
            System.out.println(spark.describe(c));
        }
        Trainer.Result r;
        int diagEvery = diagnostics == null ? -1 : diagnostics > 0 ? diagnostics : c.evalInterval();
        // The bar goes to the terminal that shows the lines, so both arrive in the order written.
        PrintStream bar = Terminal.stdoutIsTerminal() ? System.out : Terminal.stderrIsTerminal() ? System.err : null;
        try (ProgressReporter progress = new ProgressReporter(System.out, bar, logInterval);
             DiagnosticsLog diag = diagEvery > 0 ? new DiagnosticsLog(diagEvery, System.out) : null;
             InterruptSaver interrupt = new InterruptSaver(System.err)) {
            List<Trainer.Listener> listeners = new ArrayList<>(List.of(progress, interrupt));
            if (diag != null) {
                listeners.add(1, diag);
            }
            r = t.run(all(listeners));
        } catch (TrainingDivergedException e) {
            System.out.flush();
            System.err.println("jgpt train: error: " + e.getMessage());
            return EXIT_DIVERGED;
        } catch (InterruptSaver.Interrupted e) {
            System.out.flush();
            System.err.println("jgpt train: " + e.getMessage());
            return InterruptSaver.EXIT_INTERRUPTED;
        }
        System.out.printf(Locale.ROOT, "done: step %d, train loss %.4f, val loss %.4f%n", r.steps(), r.trainLoss(), r.valLoss());
        if (r.trainSeconds() > 0) {
            MeasuredPeak.Peak peak = peakGflops != null ? new MeasuredPeak.Peak(peakGflops, "--peak-gflops")
                    : MeasuredPeak.of(dev.jgpt.kernel.Parallel.threads());
            System.out.printf(Locale.ROOT, "speed: %,.0f tokens/s in %.1f s of training (%.1f s wall); %.2f MFLOP/token "
                            + "(6N + 12LdT) -> %.1f GFLOP/s, MFU %.1f%% of %.0f GFLOP/s (FP32 peak on %d threads, %s)%n",
                    r.tokensPerS(), r.trainSeconds(), r.wallSeconds(), r.flopsPerToken() / 1e6,
                    r.tokensPerS() * r.flopsPerToken() / 1e9, 100 * r.mfu(peak.gflops() * 1e9), peak.gflops(),
                    dev.jgpt.kernel.Parallel.threads(), peak.source());
        }
        if (spark != null && r.steps() > firstStep) {
            System.out.println(spark.traffic(r.steps() - firstStep));
        }
        System.out.printf("wrote %s: model (config.json, model.safetensors, tokenizer.json), train_state/, "
                + "metrics.jsonl, loss.png%s%n", t.out(), r.samples().isEmpty() ? "" : ", samples.txt");
        return 0;
    }

    /** Sends every training event to each listener, in order. */
    private static Trainer.Listener all(List<Trainer.Listener> listeners) {
        return new Trainer.Listener() {
            public void onStart(Trainer trainer, int startStep) {
                listeners.forEach(l -> l.onStart(trainer, startStep));
            }

            public void onStep(Trainer.StepStats stats, double tokensPerS) {
                listeners.forEach(l -> l.onStep(stats, tokensPerS));
            }

            public void onEval(dev.jgpt.train.MetricsLog.Point point) {
                listeners.forEach(l -> l.onEval(point));
            }

            public void onCheckpoint(int step, Path dir) {
                listeners.forEach(l -> l.onCheckpoint(step, dir));
            }

            public void onSample(int index, String text) {
                listeners.forEach(l -> l.onSample(index, text));
            }
        };
    }

    /**
     * The run on the model in {@code dir}: its tokenizer for a text file (a prepared directory keeps its
     * own, which must match the model's ids); options that would change the model's shape are refused.
     */
    private TrainConfig startFrom(TrainConfig cfg, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--init-from " + dir + ": no such directory (a model directory holds "
                    + "config.json, model.safetensors and tokenizer.json)");
        }
        String[][] shape = {{"--layers", str(layers)}, {"--heads", str(heads)}, {"--embd", str(embd)}, {"--bias", str(bias)},
                {"--residual-layout", layout}, {"--init", init}, {"--norm", norm}, {"--position", position}, {"--mlp", mlp},
                {"--kv-heads", str(kvHeads)}, {"--mlp-hidden", str(mlpHidden)}, {"--rope-theta", str(ropeTheta)},
                {"--tokenizer", tokenizer}};
        for (String[] option : shape) {
            if (option[1] != null) {
                throw new IllegalArgumentException(option[0] + " cannot be used with --init-from: the model's "
                        + (option[0].equals("--tokenizer") ? "own tokenizer.json tokenizes the data" : "shape comes from "
                        + dir.resolve("config.json")));
            }
        }
        TrainConfig.Builder b = cfg.toBuilder().initFrom(dir.toString());
        if (cfg.data() == null || !Files.isDirectory(Path.of(cfg.data()))) {
            Path tok = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(tok)) {
                throw new IllegalArgumentException("--init-from " + dir + " has no tokenizer.json to tokenize the data with");
            }
            b.tokenizer(tok.toString());
        }
        return b.build();
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** Overrides the config's fields with the options given on the command line. */
    private TrainConfig apply(TrainConfig base) {
        TrainConfig.Builder b = base.toBuilder();
        if (data != null) b.data(data);
        if (tokenizer != null) b.tokenizer(tokenizer);
        if (layers != null) b.nLayer(layers);
        if (heads != null) b.nHead(heads);
        if (embd != null) b.nEmbd(embd);
        if (block != null) b.blockSize(block);
        if (batch != null) b.batchSize(batch);
        if (iters != null) b.iters(iters);
        if (lr != null) b.lr(lr);
        if (minLr != null) b.minLr(minLr);
        if (warmup != null) b.warmup(warmup);
        if (lrDecayIters != null) b.lrDecayIters(lrDecayIters);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (beta1 != null) b.beta1(beta1);
        if (beta2 != null) b.beta2(beta2);
        if (gradClip != null) b.gradClip(gradClip);
        if (gradAccum != null) b.gradAccum(gradAccum);
        if (dropout != null) b.dropout(dropout);
        if (layerDrop != null) b.layerDrop(layerDrop);
        if (bias != null) b.bias(bias);
        if (evalInterval != null) b.evalInterval(evalInterval);
        if (evalIters != null) b.evalIters(evalIters);
        if (seed != null) b.seed(seed);
        if (threads.given() != null) {
            b.threads(threads.given());
        } else if (spark != null) {
            b.threads(1);   // kernel threads per Spark task (one core each, Spark's default) and on the driver
        }
        if (layout != null) b.layout(ResidualLayout.parse(layout));
        if (init != null) b.init(InitScheme.parse(init));
        if (samples != null) b.samples(samples);
        if (sampleTokens != null) b.sampleTokens(sampleTokens);
        if (temperature != null) b.temperature(temperature);
        if (norm != null) b.norm(Norm.parse(norm));
        if (position != null) b.position(Position.parse(position));
        if (mlp != null) b.mlp(FeedForwardKind.parse(mlp));
        if (kvHeads != null) b.nKvHead(kvHeads);
        if (mlpHidden != null) b.intermediateSize(mlpHidden);
        if (ropeTheta != null) b.ropeTheta(ropeTheta);
        if (workers != null) b.workers(workers);
        if (sync != null) b.sync(TrainConfig.Sync.parse(sync));
        if (syncEvery != null) b.syncEvery(syncEvery);
        if (outerLr != null) b.outerLr(outerLr);
        if (outerMomentum != null) b.outerMomentum(outerMomentum);
        return b.build();
    }
}
