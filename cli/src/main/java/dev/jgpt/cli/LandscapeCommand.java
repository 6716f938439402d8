package dev.jgpt.cli;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.study.Hessian;
import dev.jgpt.study.ModelLandscape;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "landscape", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The loss landscape of a model around its weights (Li et al. 2018): the loss along one and on two "
                + "filter-normalised random directions, and the Hessian's largest and smallest eigenvalues by power "
                + "iteration on Hessian-vector products, all on fixed validation batches.",
                "Writes DIR2/landscape.jsonl, DIR2/report.md and PNG+SVG plots (landscape-1d, landscape-2d)."})
final class LandscapeCommand implements Callable<Integer> {
    @Mixin
    MeasuredModelOptions io;

    @Option(names = "--batches", paramLabel = "N", defaultValue = "4", description = "Fixed batches the loss averages (default ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8", description = "Windows per batch (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--context", paramLabel = "N", description = "Tokens per window (default: the model's context, at most 256).")
    Integer context;

    @Option(names = "--radius", paramLabel = "R", defaultValue = "1", description = "α and β run over [−R, R] (default ${DEFAULT-VALUE}: "
            + "one filter norm, Li et al.'s range).")
    double radius;

    @Option(names = "--points", paramLabel = "N", defaultValue = "41", description = "Points of the 1-D surface (odd; default ${DEFAULT-VALUE}).")
    int points;

    @Option(names = "--plane-points", paramLabel = "N", defaultValue = "21",
            description = "Points per side of the 2-D surface (odd; 0: none; default ${DEFAULT-VALUE}).")
    int planePoints;

    @Option(names = "--eigen-iterations", paramLabel = "N", defaultValue = "40",
            description = "Power-iteration steps per end of the Hessian's spectrum (0: none; default ${DEFAULT-VALUE}).")
    int eigenIterations;

    @Option(names = "--largest-only", description = "Estimate only the largest eigenvalue (the sharpness), not the smallest: "
            + "half the gradient evaluations.")
    boolean largestOnly;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Draws the directions (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--at-init", paramLabel = "SEED", description = "Measure a fresh initialisation of DIR's config "
            + "(this init seed) instead of its trained weights: the landscape at init.")
    Long atInit;

    @Override
    public Integer call() throws Exception {
        Parallel.setThreads(io.check());
        Path model = io.model;
        int T = context != null ? context : Math.min(256, ModelDir.readConfig(model).blockSize());
        ModelLandscape.Settings settings = new ModelLandscape.Settings(batches, batchSize, T, radius, points, planePoints,
                eigenIterations, 1e-3, !largestOnly, seed);
        ProgressBar[] bar = new ProgressBar[1];
        String[] phase = {null};
        ModelLandscape.Progress progress = (name, done, total) -> {
            if (!name.equals(phase[0])) {
                if (bar[0] != null) {
                    bar[0].close();
                }
                phase[0] = name;
                bar[0] = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(1000).setConsumer(new ConsoleProgressBarConsumer(System.err, 100)).build();
            }
            bar[0].stepTo(done);
        };
        ModelLandscape.Outcome o;
        try {
            o = ModelLandscape.run(model, io.data(), atInit, settings, io.out, progress);
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
        }
        ModelLandscape.Result r = o.result();
        System.out.printf(Locale.ROOT, "jgpt landscape: %s%s (%s, %d blocks, %,d parameters) on %s%n", model,
                atInit == null ? "" : " at init (seed " + atInit + ")", r.layout().id(),
                r.depth(), r.parameters(), o.data());
        System.out.printf(Locale.ROOT, "loss %.4f; along direction 1: d²L/dα² %.4g, loss %.4f at α = −%s and %.4f at +%s%n",
                r.loss(), r.line().curvature(), r.line().losses()[0], radius, r.line().losses()[r.line().losses().length - 1], radius);
        if (r.plane() != null) {
            System.out.printf(Locale.ROOT, "plane: non-convexity %.4f (0: convex everywhere on it)%n", r.plane().nonConvexity());
        }
        if (r.hessian() != null) {
            Hessian.Extremes e = r.hessian();
            System.out.printf(Locale.ROOT, "Hessian: λ_max %.5g (%d products%s)", e.max().value(), e.max().iterations(),
                    e.max().converged() ? "" : ", not converged");
            if (e.min() != null) {
                System.out.printf(Locale.ROOT, ", λ_min %.5g (%d%s), |λ_min/λ_max| %.4f", e.min().value(),
                        e.min().iterations(), e.min().converged() ? "" : ", not converged", e.ratio());
            }
            System.out.println();
        }
        StringBuilder steps = new StringBuilder("block steps ‖Δx‖/‖x‖:");
        for (double v : r.steps().relativeUpdate()) {
            steps.append(String.format(Locale.ROOT, " %.3g", v));
        }
        steps.append("; cosines of successive updates:");
        for (double v : r.steps().cosine()) {
            steps.append(String.format(Locale.ROOT, " %.3f", v));
        }
        System.out.println(steps);
        System.out.printf("wrote %s, %s and %s (PNG, SVG)%n", o.log(), o.report(), String.join(", ", o.plots()));
        return 0;
    }
}
