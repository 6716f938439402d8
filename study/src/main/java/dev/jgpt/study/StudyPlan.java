package dev.jgpt.study;

import dev.jgpt.model.ResidualLayout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static dev.jgpt.model.InitScheme.GPT2;
import static dev.jgpt.model.InitScheme.XAVIER;
import static dev.jgpt.model.ResidualLayout.DEEPNORM;
import static dev.jgpt.model.ResidualLayout.POST_LN;
import static dev.jgpt.model.ResidualLayout.PRE_LN;
import static dev.jgpt.model.ResidualLayout.REZERO;
import static dev.jgpt.model.ResidualLayout.SANDWICH;

/**
 * A study: one or more grids ("parts"), each with its purpose. The runs are the union of the parts' runs; a run
 * that two parts ask for trains once, with the lesion and landscape phases if either asks for them.
 */
public record StudyPlan(String name, List<Part> parts) {
    /** One grid of the study and why it is there. */
    public record Part(String purpose, StudyGrid grid) {
    }

    public StudyPlan {
        parts = List.copyOf(parts);
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("stability study: a plan needs at least one grid");
        }
    }

    /**
     * {@code quick} (minutes on 2 cores): every layout at depths 2, 6, 12, lr 1e-3, no warmup, both inits, 3 seeds,
     * 200 steps; and lesions with and without LayerDrop at depths 4 and 8 (2 seeds, 400 steps).
     * {@code paper} (about 90 minutes on 2 idle cores, see {@link #estimatedCpuSeconds}): the paper's depths, lrs
     * and warmup axes with Xavier init; the settings that test what the quick preset left not reproduced (longer
     * training and clipping where post-LN fails, a search over lr, warmup, length and clipping for GPT-2-init
     * post-LN at L12, gpt2-init probes for the init claims); and lesions with and without LayerDrop (3 seeds).
     * All parts: width 64, 4 heads, batch 8 × 64 tokens, AdamW, warmup over the first 20% of the steps.
     */
    public static StudyPlan preset(String name) {
        StudyGrid base = StudyGrid.quickCore();
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "quick" -> new StudyPlan("quick", List.of(
                    new Part("core", base),
                    new Part("lesions, with and without LayerDrop", lesions(base, 400, 2))));
            case "paper" -> paper(base);
            default -> throw new IllegalArgumentException("unknown stability preset '" + name + "'; expected quick or paper");
        };
    }

    /**
     * Every layout at depths 4 and 8, lr 5e-4 with warmup, Xavier init, LayerDrop 0 and 0.2, lesioned with 6 subsets
     * per k (every subset at L = 4). The plain stack trains only this shallow (here it stayed stuck at L6 with lr
     * 5e-4 to 2e-3 and 1000 steps, and needed lr 5e-4 and ~1000 steps at L4), and post-LN trains there with
     * warmup, so every layout has models to lesion.
     */
    private static StudyGrid lesions(StudyGrid base, int steps, int seeds) {
        return base.toBuilder().depths(List.of(4, 8)).lrs(List.of(5e-4)).warmups(List.of(true)).inits(List.of(XAVIER))
                .seeds(StudyGrid.seeds(seeds)).probeDepths(List.of()).steps(steps).layerDrops(List.of(0.0, 0.2))
                .lesionDraws(6).build();
    }

    private static StudyPlan paper(StudyGrid base) {
        List<ResidualLayout> residual = List.of(POST_LN, PRE_LN, SANDWICH, DEEPNORM, REZERO);
        StudyGrid core = base.toBuilder().depths(List.of(2, 6, 12, 24)).lrs(List.of(1e-4, 5e-4, 1e-3))
                .warmups(List.of(false, true)).inits(List.of(XAVIER)).probeDepths(List.of(2, 4, 8, 12, 16, 24, 32))
                .steps(500).build();
        // where post-LN fails (deep, lr 1e-3, no warmup): do ReZero and sandwich train given more steps, or clipping?
        StudyGrid failing = base.toBuilder().layouts(residual).depths(List.of(12, 24)).inits(List.of(XAVIER))
                .probeDepths(List.of()).steps(1000).build();
        StudyGrid clipped = failing.toBuilder().depths(List.of(12)).steps(500).clip(1.0).build();
        // GPT-2 init post-LN at L12: other lrs, warmup, longer training, clipping; pre-LN beside it. Its probes give
        // the gpt2-init trends at init (the pre-LN gradient and the perturbation against depth).
        StudyGrid gpt2 = base.toBuilder().layouts(List.of(POST_LN, PRE_LN)).depths(List.of(12)).lrs(List.of(5e-4, 1e-3))
                .warmups(List.of(false, true)).inits(List.of(GPT2)).probeDepths(List.of(2, 4, 6, 8, 16, 24, 32))
                .steps(1000).build();
        StudyGrid gpt2Clipped = gpt2.toBuilder().lrs(List.of(1e-3)).warmups(List.of(false)).probeDepths(List.of())
                .clip(1.0).build();
        return new StudyPlan("paper", List.of(
                new Part("core: the paper's depths, lrs and warmup", core),
                new Part("post-LN's failing cells trained 2x longer", failing),
                new Part("post-LN's failing L12 cell with clipping at 1", clipped),
                new Part("GPT-2 init post-LN at L12: lr, warmup, 1000 steps", gpt2),
                new Part("GPT-2 init post-LN at L12 with clipping at 1", gpt2Clipped),
                new Part("lesions, with and without LayerDrop", lesions(base, 1000, 3))));
    }

    /** A plan of one grid. */
    public static StudyPlan of(String name, StudyGrid grid) {
        return new StudyPlan(name, List.of(new Part(name, grid)));
    }

    /** Applies the same change to every part (the command line's axis options). */
    public StudyPlan map(UnaryOperator<StudyGrid.Builder> change) {
        return new StudyPlan(name, parts.stream().map(p -> new Part(p.purpose(), change.apply(p.grid().toBuilder()).build())).toList());
    }

    /** Every run of every part, in part order, each once. */
    public List<RunSpec> expand() {
        Map<RunSpec, RunSpec> runs = new LinkedHashMap<>();
        for (Part p : parts) {
            for (RunSpec r : p.grid().expand()) {
                runs.merge(r.trainingOnly(), r, (a, b) -> a.withPhases(Math.max(a.lesionDraws(), b.lesionDraws()),
                        Math.max(a.landscapeIterations(), b.landscapeIterations())));
            }
        }
        return new ArrayList<>(runs.values());
    }

    /**
     * CPU seconds the plan should take: Σ cost × 2.7 ms, the rate of one kernel thread per run measured as CPU
     * time on this machine class (Zen 5; a run of 300 steps at depth 6 or 12). Divide by the number of free cores
     * for wall time.
     */
    public double estimatedCpuSeconds() {
        return expand().stream().mapToDouble(StudyGrid::cost).sum() * 2.7e-3;
    }

    public String describe() {
        if (parts.size() == 1) {
            return parts.get(0).grid().describe();
        }
        return parts.stream().map(p -> p.purpose() + ": " + p.grid().describe()).collect(Collectors.joining("\n"));
    }

    /** The part descriptions, one line each ("purpose: axes"), for the report. */
    public List<String> describeParts() {
        return parts.stream().map(p -> String.format(Locale.ROOT, "%s: %s", p.purpose(), p.grid().describe())).toList();
    }
}
