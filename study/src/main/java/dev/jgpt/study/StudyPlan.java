package dev.jgpt.study;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A study: one or more grids ("parts"), each with its purpose. The runs are the union of the parts' runs; a run
 * that two parts ask for trains once, with the lesion phase if either asks for one.
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
     * {@code quick}: every layout at depths 2, 6, 12, lr 1e-3, no warmup, both inits, 3 seeds, 200 steps, plus a
     * lesion grid (minutes on 2 cores). {@code paper}: the same depths, lrs and warmup axes as the paper's grid, the
     * settings that test what the quick preset left not reproduced, and lesions with and without LayerDrop
     * (about 90 minutes on 2 idle cores). Both: width 64, 4 heads, batch 8 × 64 tokens, warmup over the first 20%
     * of the steps.
     */
    public static StudyPlan preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "quick" -> new StudyPlan("quick", List.of(
                    new Part("core", StudyGrid.quickCore()),
                    new Part("lesions", lesions(StudyGrid.quickCore(), 300, 2))));
            case "paper" -> paper();
            default -> throw new IllegalArgumentException("unknown stability preset '" + name + "'; expected quick or paper");
        };
    }

    /**
     * Lesions of every layout at two depths over seeds, trained with and without LayerDrop: lr 1e-3 with warmup
     * (where post-LN trains at these depths), Xavier init, no init probes.
     */
    private static StudyGrid lesions(StudyGrid base, int steps, int seeds) {
        return base.toBuilder().depths(List.of(4, 8)).lrs(List.of(1e-3)).warmups(List.of(true))
                .inits(List.of(dev.jgpt.model.InitScheme.XAVIER)).seeds(StudyGrid.seeds(seeds)).probeDepths(List.of())
                .steps(steps).layerDrops(List.of(0.0, 0.2)).lesionDraws(4).build();
    }

    private static StudyPlan paper() {
        StudyGrid core = StudyGrid.quickCore().toBuilder().depths(List.of(2, 6, 12, 24)).lrs(List.of(1e-4, 5e-4, 1e-3))
                .warmups(List.of(false, true)).inits(List.of(dev.jgpt.model.InitScheme.XAVIER))
                .probeDepths(List.of(2, 4, 8, 12, 16, 24, 32)).steps(500).build();
        return new StudyPlan("paper", List.of(
                new Part("core", core),
                new Part("lesions", lesions(core, 500, 3))));
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
                runs.merge(r.withoutLesions(), r, (a, b) -> a.lesionDraws() >= b.lesionDraws() ? a : b);
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
