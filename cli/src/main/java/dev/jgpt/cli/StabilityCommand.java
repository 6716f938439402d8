package dev.jgpt.cli;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.Claims;
import dev.jgpt.study.ConsoleProgress;
import dev.jgpt.study.RunResult;
import dev.jgpt.study.StabilityStudy;
import dev.jgpt.study.StudyCorpus;
import dev.jgpt.study.StudyGrid;
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
                "Writes DIR/results.jsonl (one record per run), DIR/report.md (summary and claims tables) and PNG+SVG plots.",
                "--threads N trains N runs at a time, each on one thread."})
final class StabilityCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "quick",
            description = "quick (depths 2,6,12, lr 1e-3, no warmup, both inits, 3 seeds, 200 steps: minutes) or paper "
                    + "(depths to 24, lrs 1e-4,5e-4,1e-3, warmup off+on, 500 steps: hours). Default: ${DEFAULT-VALUE}.")
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

    @Mixin
    ThreadsOption threads;   // runs at a time, each on one kernel thread

    @Option(names = "--data", description = "Corpus text file. Default: tiny Shakespeare (see jgpt's README, Data).")
    Path data;

    @Option(names = "--replot", description = "Rewrite report.md and the plots from DIR/results.jsonl without training.")
    boolean replot;

    @Override
    public Integer call() throws Exception {
        StudyGrid grid = grid();
        Path dir = out != null ? out : Path.of("stability-" + preset.toLowerCase(Locale.ROOT));
        int n = threads.resolve();
        PrintStream o = System.out;
        StabilityStudy.Outcome outcome;
        if (replot) {
            outcome = StabilityStudy.replot(dir);
        } else {
            StudyCorpus corpus = StudyCorpus.load(Optional.ofNullable(data));
            double cpu = grid.estimatedCpuSeconds();
            o.printf(Locale.ROOT, "jgpt stability: %d runs, %d at a time, into %s (estimate: %.0f CPU-minutes, ~%.0f min wall on %d idle cores)%n  %s%n",
                    grid.expand().size(), n, dir, cpu / 60, cpu / 60 / n, n, grid.describe());
            outcome = StabilityStudy.run(grid, corpus, dir, n, new ConsoleProgress());
        }
        summary(o, outcome);
        return 0;
    }

    private StudyGrid grid() {
        StudyGrid p = StudyGrid.preset(preset);
        return new StudyGrid(
                layouts != null ? layouts.stream().map(ResidualLayout::parse).toList() : p.layouts(),
                depths != null ? depths : p.depths(),
                lrs != null ? lrs : p.lrs(),
                warmup != null ? warmup.stream().map(StabilityCommand::onOff).distinct().toList() : p.warmups(),
                inits != null ? inits.stream().map(InitScheme::parse).toList() : p.inits(),
                seeds != null ? parseSeeds(seeds) : p.seeds(),
                probeDepths != null ? probeDepths : p.probeDepths(),
                steps != null ? steps : p.steps(),
                width != null ? width : p.width(),
                heads != null ? heads : p.heads(),
                batch != null ? batch : p.batch(),
                p.seqLen(),
                warmupSteps != null ? warmupSteps : Math.max(1, (steps != null ? steps : p.steps()) / 5),
                clip != null ? clip : p.clip(),
                p.weightDecay());
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
