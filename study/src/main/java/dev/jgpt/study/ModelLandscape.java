package dev.jgpt.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.TokenSequence;
import dev.jgpt.model.GPT;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.model.io.ModelDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code jgpt landscape}: the loss landscape of one model around its weights, on fixed validation batches —
 * a 1-D and a 2-D surface along filter-normalised random directions ({@link Landscape}, Li et al. 2018) and
 * both ends of the Hessian's spectrum by power iteration ({@link Hessian}) — written as landscape.jsonl,
 * report.md and PNG + SVG plots.
 */
public final class ModelLandscape {
    public static final String LOG = "landscape.jsonl";

    /**
     * What to measure: {@code batches} fixed batches of {@code batchSize} × {@code context} tokens (consecutive
     * windows from the start of the validation tokens); the line over {@code linePoints} α in [−radius, radius],
     * the plane over {@code planePoints}² points (0: none); {@code eigenIterations} power-iteration steps per end of
     * the spectrum (0: none), stopping when the estimate changes by less than {@code eigenTolerance} relative, for the
     * largest eigenvalue alone or, with {@code bothEnds}, the smallest too;
     * {@code seed} draws the directions (d₁ from seed, d₂ from seed + 1) and the power iteration's start.
     */
    public record Settings(int batches, int batchSize, int context, double radius, int linePoints, int planePoints,
                           int eigenIterations, double eigenTolerance, boolean bothEnds, long seed) {
        public Settings {
            require(batches >= 1, "--batches must be at least 1, got " + batches);
            require(batchSize >= 1, "--batch-size must be at least 1, got " + batchSize);
            require(context >= 1, "--context must be at least 1, got " + context);
            require(radius > 0 && Double.isFinite(radius), "--radius must be positive, got " + radius);
            require(linePoints >= 3 && linePoints % 2 == 1, "--points must be odd and at least 3, got " + linePoints);
            require(planePoints == 0 || planePoints >= 3 && planePoints % 2 == 1,
                    "--plane-points must be 0 (no plane) or odd and at least 3, got " + planePoints);
            require(eigenIterations >= 0, "--eigen-iterations must be 0 (none) or more, got " + eigenIterations);
            require(eigenTolerance > 0, "the eigenvalue tolerance must be positive, got " + eigenTolerance);
        }

        /** Tokens the batches read (each window one token longer for its targets). */
        long tokensNeeded() {
            return (long) batches * batchSize * context + 1;
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }

    /** Progress: {@code done} of {@code total} loss or gradient evaluations of the current {@code phase}. */
    public interface Progress {
        void update(String phase, long done, long total);
    }

    /**
     * One model's landscape; {@code plane} and {@code hessian} are null when not asked for. {@code steps} is the ODE
     * view of the stack on the first batch (each block's relative update and the cosine between successive ones).
     */
    public record Result(ResidualLayout layout, int depth, long parameters, double loss, Landscape.Line line,
                         Landscape.Plane plane, Hessian.Extremes hessian, Diagnostics.BlockSteps steps) {
    }

    /** What was measured and where it was written. */
    public record Outcome(Result result, String data, Path log, Path report, List<String> plots) {
    }

    private ModelLandscape() {
    }

    /** Measures {@code model} on the first tokens of {@code tokens}; the weights are left as they were. */
    public static Result measure(GPT model, TokenSequence tokens, Settings s, Progress progress) {
        int T = s.context(), B = s.batchSize();
        if (T > model.config.blockSize()) {
            throw new IllegalArgumentException("--context " + T + " is longer than the model's " + model.config.blockSize()
                    + " positions");
        }
        if (tokens.size() < s.tokensNeeded()) {
            throw new IllegalArgumentException("the data has " + tokens.size() + " tokens; " + s.batches() + " batches of "
                    + B + "×" + T + " need " + s.tokensNeeded() + " (give fewer --batches, a smaller --batch-size or --context)");
        }
        int[][] x = new int[s.batches()][B * T], y = new int[s.batches()][B * T];
        int[] window = new int[T + 1];
        for (int i = 0; i < s.batches(); i++) {
            for (int b = 0; b < B; b++) {
                tokens.read((long) (i * B + b) * T, window, 0, T + 1);
                System.arraycopy(window, 0, x[i], b * T, T);
                System.arraycopy(window, 1, y[i], b * T, T);
            }
        }
        return measure(model, x, y, s, progress);
    }

    /**
     * Measures {@code model} on the given batches ({@code s.batches()} of them, each {@code s.batchSize()} ×
     * {@code s.context()} tokens and their targets); the weights are left as they were, the gradients are not.
     */
    public static Result measure(GPT model, int[][] x, int[][] y, Settings s, Progress progress) {
        int B = s.batchSize(), T = s.context();
        if (x.length != s.batches() || y.length != s.batches()) {
            throw new IllegalArgumentException("landscape: " + s.batches() + " batches asked for, " + x.length + " given");
        }
        boolean training = model.isTraining();
        try {
            Objective f = Objective.of(model, x, y, B, T);
            model.loss(x[0], y[0], B, T);
            Diagnostics.BlockSteps steps = Diagnostics.blockSteps(model, B * T);
            double loss = f.loss();
            Landscape.Direction d1 = Landscape.randomDirection(f.parameters(), s.seed());
            Landscape.Line line = Landscape.line(f, d1, s.radius(), s.linePoints(),
                    i -> progress.update("line", i, s.linePoints()));
            Landscape.Plane plane = null;
            if (s.planePoints() > 0) {
                long n = (long) s.planePoints() * s.planePoints();
                plane = Landscape.plane(f, d1, Landscape.randomDirection(f.parameters(), s.seed() + 1), s.radius(),
                        s.planePoints(), i -> progress.update("plane", i, n));
            }
            Hessian.Extremes hessian = null;
            if (s.eigenIterations() > 0) {
                long n = 2L * s.eigenIterations();
                Hessian.Operator h = Hessian.of(f, Hessian.DEFAULT_STEP);
                hessian = s.bothEnds()
                        ? Hessian.extremes(h, s.eigenIterations(), s.eigenTolerance(), s.seed(), i -> progress.update("hessian", i, n))
                        : Hessian.largest(h, s.eigenIterations(), s.eigenTolerance(), s.seed(), i -> progress.update("hessian", i, n));
            }
            return new Result(model.config.layout(), model.config.nLayer(), model.parameterCount(), loss, line, plane, hessian, steps);
        } finally {
            model.setTraining(training);
        }
    }

    /**
     * The landscape of {@code modelDir} on {@code data} (default: the validation split of the data it was trained
     * on, as its train_state/ names it), written into {@code out}.
     */
    public static Outcome run(Path modelDir, Optional<Path> data, Settings s, Path out, Progress progress) throws IOException {
        return run(modelDir, data, null, s, out, progress);
    }

    /**
     * As {@link #run(Path, Optional, Settings, Path, Progress)}; with {@code initSeed} not null, the model measured is a
     * fresh initialisation of the directory's config with that seed (the landscape at init) instead of its weights.
     */
    public static Outcome run(Path modelDir, Optional<Path> data, Long initSeed, Settings s, Path out, Progress progress)
            throws IOException {
        EvaluationData.checkDirectories(modelDir, out);
        GPT model = initSeed == null ? ModelDir.load(modelDir) : new GPT(ModelDir.readConfig(modelDir), initSeed);
        Result r;
        String description;
        try (EvaluationData v = EvaluationData.of(modelDir, data)) {
            description = v.description();
            r = measure(model, v.eval(), s, progress);
        }
        Files.createDirectories(out);
        Path log = out.resolve(LOG);
        AtomicFiles.writeString(log, jsonl(modelDir.toString(), initSeed, description, s, r));
        String name = (modelDir.getFileName() == null ? modelDir.toString() : modelDir.getFileName().toString())
                + (initSeed == null ? "" : " at init (seed " + initSeed + ")");
        List<String> plots = new ArrayList<>();
        LandscapePlots.line(name + " (" + r.layout().id() + " L" + r.depth() + "): loss along a filter-normalised direction",
                List.of(new LandscapePlots.Curve(r.layout().id(), r.line()))).write(out, "landscape-1d");
        plots.add("landscape-1d");
        if (r.plane() != null) {
            LandscapePlots.contour(name + " (" + r.layout().id() + " L" + r.depth() + "): loss on a filter-normalised plane",
                    r.plane(), out, "landscape-2d");
            plots.add("landscape-2d");
        }
        LandscapePlots.steps(name + " (" + r.layout().id() + " L" + r.depth() + "): the stack as steps of a flow",
                r.steps()).write(out, "block-steps");
        plots.add("block-steps");
        Path report = out.resolve("report.md");
        AtomicFiles.writeString(report, markdown(modelDir + (initSeed == null ? "" : " at init (its config, seed " + initSeed + ")"),
                description, s, r, plots));
        return new Outcome(r, description, log, report, plots);
    }

    /** One JSON object per line: the model and settings, the line, the plane, the Hessian's extremes. */
    static String jsonl(String model, Long initSeed, String data, Settings s, Result r) {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        ObjectNode head = json.createObjectNode().put("kind", "model").put("model", model).put("layout", r.layout().id())
                .put("depth", r.depth()).put("parameters", r.parameters()).put("data", data)
                .put("weights", initSeed == null ? "trained" : "init seed " + initSeed)
                .put("batches", s.batches()).put("batch_size", s.batchSize()).put("context", s.context())
                .put("seed", s.seed()).put("loss", r.loss());
        sb.append(head).append('\n');
        ObjectNode line = json.createObjectNode().put("kind", "line").put("direction_seed", s.seed())
                .put("radius", s.radius()).put("curvature", r.line().curvature());
        array(line.putArray("alpha"), r.line().alphas());
        array(line.putArray("loss"), r.line().losses());
        sb.append(line).append('\n');
        if (r.plane() != null) {
            Landscape.Plane p = r.plane();
            ObjectNode plane = json.createObjectNode().put("kind", "plane").put("direction_seeds", s.seed() + "," + (s.seed() + 1))
                    .put("radius", s.radius()).put("non_convexity", p.nonConvexity());
            array(plane.putArray("alpha"), p.alphas());
            array(plane.putArray("beta"), p.betas());
            ArrayNode rows = plane.putArray("loss");
            for (double[] row : p.losses()) {
                array(rows.addArray(), row);
            }
            ArrayNode h = plane.putArray("hessian");
            for (double[] row : p.hessian()) {
                array(h.addArray(), row);
            }
            sb.append(plane).append('\n');
        }
        ObjectNode steps = json.createObjectNode().put("kind", "steps");
        array(steps.putArray("relative_update"), r.steps().relativeUpdate());
        array(steps.putArray("update_cosine"), r.steps().cosine());
        sb.append(steps).append('\n');
        if (r.hessian() != null) {
            Hessian.Extremes e = r.hessian();
            ObjectNode h = json.createObjectNode().put("kind", "hessian").put("step", Hessian.DEFAULT_STEP)
                    .put("lambda_max", e.max().value()).put("lambda_max_iterations", e.max().iterations())
                    .put("lambda_max_converged", e.max().converged());
            if (e.min() != null) {
                h.put("lambda_min", e.min().value()).put("lambda_min_iterations", e.min().iterations())
                        .put("lambda_min_converged", e.min().converged()).put("ratio", e.ratio());
            }
            sb.append(h).append('\n');
        }
        return sb.toString();
    }

    private static void array(ArrayNode a, double[] values) {
        for (double v : values) {
            a.add(v);
        }
    }

    private static String markdown(String model, String data, Settings s, Result r, List<String> plots) {
        StringBuilder md = new StringBuilder("# Loss landscape of " + model + "\n\n");
        md.append(String.format(Locale.ROOT, "- Model: %s, %d blocks, %,d parameters.%n", r.layout().id(), r.depth(), r.parameters()));
        md.append(String.format(Locale.ROOT, "- Data: %s; %d fixed batches of %d × %d tokens; loss at the weights %.4f nats.%n",
                data, s.batches(), s.batchSize(), s.context(), r.loss()));
        md.append(String.format(Locale.ROOT, "- Directions: Gaussian, filter-normalised (each row of a weight matrix or "
                + "embedding scaled to that row's norm in the model; biases, norm gains and scalars not moved), seeds %d "
                + "and %d; α, β in [−%s, %s].%n%n", s.seed(), s.seed() + 1, Chart.number(s.radius()), Chart.number(s.radius())));
        md.append("| measure | value |\n|---|---|\n");
        md.append(String.format(Locale.ROOT, "| d²L/dα² at the weights (1-D, central difference) | %.4g |%n", r.line().curvature()));
        md.append(String.format(Locale.ROOT, "| loss at α = ±%s | %.4f / %.4f |%n", Chart.number(s.radius()), r.line().losses()[0],
                r.line().losses()[r.line().losses().length - 1]));
        if (r.plane() != null) {
            double[][] h = r.plane().hessian();
            md.append(String.format(Locale.ROOT, "| 2×2 curvature in (α, β) at the weights | [[%.4g, %.4g], [%.4g, %.4g]] |%n",
                    h[0][0], h[0][1], h[1][0], h[1][1]));
            md.append(String.format(Locale.ROOT, "| non-convexity of the plane (mean over its interior of max(0, −λ_min)/max|λ|, 0 = convex) | %.4f |%n",
                    r.plane().nonConvexity()));
        }
        if (r.hessian() != null) {
            Hessian.Extremes e = r.hessian();
            md.append(String.format(Locale.ROOT, "| λ_max of the Hessian (power iteration, %d products%s) | %.5g |%n",
                    e.max().iterations(), e.max().converged() ? "" : ", not converged", e.max().value()));
            if (e.min() != null) {
                md.append(String.format(Locale.ROOT, "| λ_min of the Hessian (%d products%s) | %.5g |%n",
                        e.min().iterations(), e.min().converged() ? "" : ", not converged", e.min().value()));
                md.append(String.format(Locale.ROOT, "| \\|λ_min/λ_max\\| (Li et al.'s non-convexity) | %.4f |%n", e.ratio()));
            }
        }
        md.append("| relative update ‖x_{l+1} − x_l‖/‖x_l‖ per block |");
        for (double v : r.steps().relativeUpdate()) {
            md.append(String.format(Locale.ROOT, " %.3g", v));
        }
        md.append(" |\n| cosine between successive blocks' updates |");
        for (double v : r.steps().cosine()) {
            md.append(String.format(Locale.ROOT, " %.3f", v));
        }
        md.append(" |\n");
        md.append("\nHessian-vector products are central differences of two gradients, (∇L(θ+εv) − ∇L(θ−εv))/2ε with ε = ")
                .append(Hessian.DEFAULT_STEP).append(" along a unit v.\n\n## Plots\n\nEach as PNG and SVG.\n\n");
        for (String p : plots) {
            md.append("![").append(p).append("](").append(p).append(".png)\n\n");
        }
        return md.toString();
    }
}
