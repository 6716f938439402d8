package dev.jgpt.cli;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.Claims;
import dev.jgpt.study.ConsoleProgress;
import dev.jgpt.study.RunResult;
import dev.jgpt.study.StabilityStudy;
import dev.jgpt.study.StudyCorpus;
import dev.jgpt.study.StudyGrid;
import dev.jgpt.study.StudyPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "stability", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Which residual layout trains at this depth and learning rate, and why: trains small char-level GPTs "
                        + "over a grid of layouts × depths × learning rates × warmup × init × seeds, measures gradient and "
                        + "activation norms, update sizes and verdicts, and checks the literature's claims.",
                "With --lesions N, every trained model then has blocks deleted at test time (each block alone, and k random "
                        + "blocks for k = 0..L, N subsets per k); --layer-drops trains with LayerDrop too. With --landscape N, "
                        + "every training run has its loss landscape measured at init and after training.",
                "Writes DIR/results.jsonl (one record per run), DIR/report.md (summary and claims tables), DIR/lesion.jsonl "
                        + "(lesioned runs) and PNG+SVG plots.",
                "--threads N trains N runs at a time, each on one thread."})
final class StabilityCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "quick",
            description = "quick (depths 2,6,12, lr 1e-3, no warmup, both inits, 3 seeds, 200 steps, and a lesion grid: "
                    + "minutes) or paper (depths to 24, lrs 1e-4,5e-4,1e-3, warmup off+on, plus longer training, clipping, "
                    + "lesions and LayerDrop: ~90 minutes on 2 idle cores). Axes given below replace that axis in every "
                    + "part of the preset. Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--out", description = "Output directory. Default: stability-<preset>.")
    Path out;

    @Option(names = "--layouts", split = ",", description = "Residual layouts: post-ln, pre-ln, sandwich, deepnorm, rezero, highway, dense, unet, none (presets: all but highway, dense, unet).")
    List<String> layouts;

    @Option(names = "--depths", split = ",", description = "Numbers of layers to train.")
    List<Integer> depths;

    @Option(names = "--lrs", split = ",", description = "Peak learning rates.")
    List<Double> lrs;

    @Option(names = "--warmup", split = ",", description = "off, on, or off,on (linear warmup over --warmup-steps).")
    List<String> warmup;

    @Option(names = "--inits", split = ",", description = "Init schemes: xavier, gpt2.")
    List<String> inits;

    @Option(names = "--seeds", description = "A count N (seeds 0..N-1) or a list such as 3,4,5.")
    String seeds;

    @Option(names = "--steps", description = "Training steps per run.")
    Integer steps;

    @Option(names = "--width", description = "Model width d (with --heads heads).")
    Integer width;

    @Option(names = "--heads", description = "Attention heads.")
    Integer heads;

    @Option(names = "--batch", description = "Sequences per batch (each 64 tokens).")
    Integer batch;

    @Option(names = "--warmup-steps", description = "Warmup length when warmup is on.")
    Integer warmupSteps;

    @Option(names = "--clip", description = "Clip the global gradient norm to this (0 = off, the default).")
    Double clip;

    @Option(names = "--probe-depths", split = ",", description = "Extra depths measured at init only (no training).")
    List<Integer> probeDepths;

    @Option(names = "--layer-drops", split = ",", description = "LayerDrop rates to train with, e.g. 0,0.2 (each block "
            + "skipped with this probability per step).")
    List<Double> layerDrops;

    @Option(names = "--lesions", paramLabel = "DRAWS", description = "Lesion phase after training with DRAWS random "
            + "subsets per k (every subset when there are fewer); 0: off.")
    Integer lesions;

    @Option(names = "--landscape", paramLabel = "N", description = "Landscape phase at init and after training, on the "
            + "probe batch: the Hessian's largest and smallest eigenvalues by N power-iteration steps each, and the loss "
            + "along a filter-normalised direction (Li et al. 2018); 0: off. About 4N + 7 training steps' work, twice.")
    Integer landscape;

    @Mixin
    ThreadsOption threads;   // runs at a time, each on one kernel thread

    @Option(names = "--data", description = "Corpus text file. Default: tiny Shakespeare (see jgpt's README, Data).")
    Path data;

    @Option(names = "--replot", description = "Rewrite report.md and the plots from DIR/results.jsonl (or DIR/results.jsonl.gz) without training.")
    boolean replot;

    @Override
    public Integer call() throws Exception {
        StudyPlan plan = plan();
        Path dir = out != null ? out : Path.of("stability-" + preset.toLowerCase(Locale.ROOT));
        int n = threads.resolve();
        PrintStream o = System.out;
        StabilityStudy.Outcome outcome;
        if (replot) {
            outcome = StabilityStudy.replot(dir);
        } else {
            StudyCorpus corpus = StudyCorpus.load(Optional.ofNullable(data));
            double cpu = plan.estimatedCpuSeconds();
            o.printf(Locale.ROOT, "jgpt stability: %d runs, %d at a time, into %s (estimate: %.0f CPU-minutes, ~%.0f min wall on %d idle cores)%n  %s%n",
                    plan.expand().size(), n, dir, cpu / 60, cpu / 60 / n, n, plan.describe().replace("\n", "\n  "));
            outcome = StabilityStudy.run(plan, corpus, dir, n, new ConsoleProgress());
        }
        summary(o, outcome);
        return 0;
    }

    /** The preset with the axes given on the command line replacing that axis in every part. */
    private StudyPlan plan() {
        StudyPlan p = StudyPlan.preset(preset);
        return p.map(b -> {
            if (layouts != null) b.layouts(layouts.stream().map(ResidualLayout::parse).toList());
            if (depths != null) b.depths(depths);
            if (lrs != null) b.lrs(lrs);
            if (warmup != null) b.warmups(warmup.stream().map(StabilityCommand::onOff).distinct().toList());
            if (inits != null) b.inits(inits.stream().map(InitScheme::parse).toList());
            if (seeds != null) b.seeds(parseSeeds(seeds));
            if (probeDepths != null) b.probeDepths(probeDepths);
            if (steps != null) b.steps(steps);
            if (width != null) b.width(width);
            if (heads != null) b.heads(heads);
            if (batch != null) b.batch(batch);
            if (warmupSteps != null) b.warmupSteps(warmupSteps);
            if (clip != null) b.clip(clip);
            if (layerDrops != null) b.layerDrops(layerDrops);
            if (lesions != null) b.lesionDraws(lesions);
            if (landscape != null) b.landscapeIterations(landscape);
            return b;
        });
    }

    static boolean onOff(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new IllegalArgumentException("--warmup: expected off, on or off,on; got '" + s + "'");
        };
    }

    static List<Long> parseSeeds(String s) {
        try {
            if (!s.contains(",")) {
                int count = Integer.parseInt(s.trim());
                if (count < 1) {
                    throw new IllegalArgumentException("--seeds: need at least 1 seed, got " + count);
                }
                return StudyGrid.seeds(count);
            }
            List<Long> seeds = new ArrayList<>();
            for (String part : s.split(",")) {
                seeds.add(Long.parseLong(part.trim()));
            }
            return seeds;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seeds: expected a count or a comma-separated list of integers, got '" + s + "'");
        }
    }

    private static void summary(PrintStream o, StabilityStudy.Outcome outcome) {
        long trained = outcome.results().stream().filter(RunResult::trained).count();
        long training = outcome.results().stream().filter(r -> !r.spec().probeOnly()).count();
        o.printf(Locale.ROOT, "%nReport: %s%nResults: %s (%d runs: %d trained of %d training runs)%n", outcome.report().toAbsolutePath(),
                outcome.dir().resolve("results.jsonl").toAbsolutePath(), outcome.results().size(), trained, training);
        if (outcome.seconds() > 0) {
            o.printf(Locale.ROOT, "Wall time: %.0f s%n", outcome.seconds());
        }
        o.println("Claims:");
        for (Claims.Claim c : outcome.claims()) {
            o.printf(Locale.ROOT, "  [%s] %s%n", c.status().text, c.claim());
        }
    }
}
