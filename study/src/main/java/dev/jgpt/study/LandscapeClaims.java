package dev.jgpt.study;

import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.Claims.Claim;
import dev.jgpt.study.Claims.Status;
import dev.jgpt.study.StudyResults.Cell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import static dev.jgpt.model.ResidualLayout.NONE;

/**
 * The loss-landscape claim (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"; repeated in the
 * documents this project grew from): at equal depth, residual layouts have smoother loss surfaces and smaller top
 * Hessian eigenvalues than the plain stack {@code none}. Measured on the runs with a landscape phase
 * ({@link StabilityRun#landscape}), at init and after training, against {@code none}'s runs of the same cell
 * (depth, lr, warmup, init, training regime), over seeds.
 *
 * <p>Fixed before measuring: <b>sharpness</b> is λ_max, the Hessian's largest eigenvalue; <b>non-convexity</b> is
 * |λ_min/λ_max|, Li et al.'s measure of how far the surface around the point is from convex (0: convex; they
 * show plain deep nets' surfaces turn chaotic where skip connections keep them convex-looking). A claim holds in a
 * cell when every residual layout's mean over seeds is below {@code none}'s, and is reproduced when it holds in
 * every cell that measures it. After training only runs that trained count, on both sides: a plain stack stuck at
 * the unigram loss sits on a plateau, flat for a reason that says nothing about its minima. The figures say in how
 * many runs the power iteration settled: an unsettled λ_max is a Rayleigh quotient, a lower bound of the true one.
 */
final class LandscapeClaims {
    /** When the landscape was measured. */
    enum Weights {
        INIT("at init"), TRAINED("after training");

        final String text;

        Weights(String text) {
            this.text = text;
        }

        ModelLandscape.Result of(RunResult r) {
            return this == INIT ? r.landscapeInit() : r.landscapeEnd();
        }

        /** The runs whose landscape at these weights counts: every one at init, the trained ones after training. */
        boolean counts(RunResult r) {
            return of(r) != null && (this == INIT || r.trained());
        }
    }

    /** A measure of one landscape; NaN when it was not measured. */
    enum Measure {
        LAMBDA_MAX("λ_max", l -> l.hessian() == null ? Double.NaN : l.hessian().max().value(),
                l -> l.hessian() != null && l.hessian().max().converged()),
        NON_CONVEXITY("|λ_min/λ_max|", l -> l.hessian() == null ? Double.NaN : l.hessian().ratio(),
                l -> l.hessian() != null && l.hessian().min() != null && l.hessian().max().converged()
                        && l.hessian().min().converged());

        final String text;
        final ToDoubleFunction<ModelLandscape.Result> value;
        /** Whether the power iteration behind the value settled; an unsettled λ_max is a lower bound (a Rayleigh quotient). */
        final java.util.function.Predicate<ModelLandscape.Result> settled;

        Measure(String text, ToDoubleFunction<ModelLandscape.Result> value,
                java.util.function.Predicate<ModelLandscape.Result> settled) {
            this.text = text;
            this.value = value;
            this.settled = settled;
        }
    }

    /**
     * The landscapes of one layout in one cell at one point of training, over its runs that count.
     *
     * @param runs    the cell's runs with a landscape phase
     * @param counted those whose landscape at these weights counts ({@link Weights#counts})
     */
    record Summary(Cell cell, Weights weights, List<RunResult> runs, List<RunResult> counted) {
        ResidualLayout layout() {
            return cell.layout();
        }

        double mean(ToDoubleFunction<ModelLandscape.Result> f) {
            return Stats.mean(values(f));
        }

        double sd(ToDoubleFunction<ModelLandscape.Result> f) {
            return Stats.sd(values(f));
        }

        double[] values(ToDoubleFunction<ModelLandscape.Result> f) {
            return counted.stream().mapToDouble(r -> f.applyAsDouble(weights.of(r))).toArray();
        }

        /** The measure of the counted run with this seed, or NaN. */
        double seed(long seed, Measure m) {
            return counted.stream().filter(r -> r.spec().seed() == seed).mapToDouble(r -> m.value.applyAsDouble(weights.of(r)))
                    .findFirst().orElse(Double.NaN);
        }

        /** "settled 2/3": in how many counted runs the power iteration behind the measure settled. */
        String settled(Measure m) {
            return "settled " + counted.stream().filter(r -> m.settled.test(weights.of(r))).count() + "/" + counted.size();
        }

        /** "70.8 ± 15" over the counted runs. */
        String text(ToDoubleFunction<ModelLandscape.Result> f) {
            return counted.size() > 1 ? String.format(Locale.ROOT, "%.3g ± %.2g", mean(f), sd(f))
                    : String.format(Locale.ROOT, "%.3g", mean(f));
        }
    }

    private LandscapeClaims() {
    }

    static boolean any(List<RunResult> results) {
        return results.stream().map(RunResult::landscapeInit).anyMatch(Objects::nonNull);
    }

    /** Summaries of every cell with landscape runs, at init and after training, in cell order (layouts in enum order). */
    static List<Summary> summaries(List<RunResult> results) {
        List<Summary> out = new ArrayList<>();
        Map<Cell, List<RunResult>> cells = StudyResults.cells(results.stream().filter(r -> r.landscapeInit() != null).toList());
        List<Cell> keys = new ArrayList<>(cells.keySet());
        keys.sort(Comparator.comparing(Cell::regime).thenComparing(Cell::init).thenComparingInt(Cell::depth)
                .thenComparingDouble(Cell::lr).thenComparing(Cell::warmup).thenComparing(Cell::layout));
        for (Weights w : Weights.values()) {
            for (Cell c : keys) {
                List<RunResult> runs = cells.get(c);
                out.add(new Summary(c, w, runs, runs.stream().filter(w::counts).toList()));
            }
        }
        return out;
    }

    static List<Claim> evaluate(List<RunResult> results) {
        List<Summary> summaries = summaries(results);
        List<Claim> out = new ArrayList<>();
        for (Weights w : Weights.values()) {
            for (Measure m : Measure.values()) {
                out.add(claim(summaries.stream().filter(s -> s.weights() == w).toList(), w, m));
            }
        }
        return out;
    }

    private static Claim claim(List<Summary> summaries, Weights w, Measure m) {
        String id = "landscape-" + (m == Measure.LAMBDA_MAX ? "sharpness" : "non-convexity") + "-" + w.name().toLowerCase(Locale.ROOT);
        String claim = m == Measure.LAMBDA_MAX
                ? "At equal depth, residual layouts have a smaller top Hessian eigenvalue λ_max than the plain stack (none), " + w.text
                : "At equal depth, residual layouts have a smoother, more convex surface (a smaller magnitude ratio λ_min/λ_max) than the plain stack (none), " + w.text;
        String src = "Li et al. 2018 (Visualizing the Loss Landscape of Neural Nets)";
        // the cells, keyed by their setting: the same cell with the layout set to none
        Map<Cell, List<Summary>> settings = summaries.stream().collect(Collectors.groupingBy(s -> s.cell().with(NONE),
                LinkedHashMap::new, Collectors.toList()));
        List<String> texts = new ArrayList<>(), failed = new ArrayList<>();
        List<List<RunResult>> used = new ArrayList<>();
        for (var e : settings.entrySet()) {
            Summary none = e.getValue().stream().filter(s -> s.layout() == NONE).findFirst().orElse(null);
            List<Summary> residual = e.getValue().stream().filter(s -> s.layout() != NONE && !s.counted().isEmpty()).toList();
            if (none == null || residual.isEmpty()) {
                continue;
            }
            String label = e.getKey().fullLabel();
            if (none.counted().isEmpty()) {
                texts.add(String.format(Locale.ROOT, "%s: none trained in 0 of %d runs, nothing to compare", label, none.runs().size()));
                continue;
            }
            used.add(none.counted());
            double bound = none.mean(m.value);
            List<String> parts = new ArrayList<>();
            for (Summary s : residual) {
                used.add(s.counted());
                int below = 0, pairs = 0;
                for (RunResult r : s.counted()) {
                    double theirs = none.seed(r.spec().seed(), m);
                    if (Double.isFinite(theirs)) {
                        pairs++;
                        below += m.value.applyAsDouble(w.of(r)) < theirs ? 1 : 0;
                    }
                }
                boolean holds = s.mean(m.value) < bound;
                if (!holds) {
                    failed.add(s.layout().id() + " " + label);
                }
                parts.add(String.format(Locale.ROOT, "%s %s (%s, below none in %d of %d seeds, %s)", s.layout().id(),
                        s.text(m.value), holds ? "below" : "NOT below", below, pairs, s.settled(m)));
            }
            texts.add(String.format(Locale.ROOT, "%s: none %s %s (%s); %s", label, m.text, none.text(m.value), none.settled(m),
                    String.join(", ", parts)));
        }
        if (used.isEmpty()) {
            String why = texts.isEmpty() ? "needs a landscape phase (--landscape N) for none and a residual layout in one cell"
                    + (w == Weights.TRAINED ? ", trained" : "") : String.join("; ", texts);
            return new Claim(id, claim, src, why, "-", Status.NOT_MEASURED);
        }
        return new Claim(id, claim, src, String.join("; ", texts) + (failed.isEmpty() ? "" : ". Not below none: "
                + String.join(", ", failed)), Claims.seedsOf(used), failed.isEmpty() ? Status.REPRODUCED : Status.NOT_REPRODUCED);
    }

    /** What the report's landscape table shows per summary, as mean ± sd over its counted runs. */
    static Map<String, ToDoubleFunction<ModelLandscape.Result>> columns() {
        Map<String, ToDoubleFunction<ModelLandscape.Result>> m = new LinkedHashMap<>();
        m.put("loss", ModelLandscape.Result::loss);
        m.put("λ_max", Measure.LAMBDA_MAX.value);
        m.put("λ_min", l -> l.hessian() == null || l.hessian().min() == null ? Double.NaN : l.hessian().min().value());
        m.put("\\|λ_min/λ_max\\|", Measure.NON_CONVEXITY.value);
        m.put("d²L/dα²", l -> l.line().curvature());
        m.put("loss rise at α = ±1", l -> {
            double[] loss = l.line().losses();
            return (loss[0] + loss[loss.length - 1]) / 2 - l.loss();
        });
        return m;
    }
}
