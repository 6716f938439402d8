package dev.jgpt.study;

import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.Claims.Claim;
import dev.jgpt.study.Claims.Status;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

import static dev.jgpt.model.ResidualLayout.DEEPNORM;
import static dev.jgpt.model.ResidualLayout.DENSE;
import static dev.jgpt.model.ResidualLayout.HIGHWAY;
import static dev.jgpt.model.ResidualLayout.NONE;
import static dev.jgpt.model.ResidualLayout.POST_LN;
import static dev.jgpt.model.ResidualLayout.PRE_LN;
import static dev.jgpt.model.ResidualLayout.REZERO;
import static dev.jgpt.model.ResidualLayout.SANDWICH;
import static dev.jgpt.model.ResidualLayout.UNET;

/**
 * The lesion claims (Veit et al. 2016; Gromov et al. 2024; Huang et al. 2016; Fan et al. 2020), measured on the
 * runs that trained and were lesioned. Damage is relative: the loss increase as a fraction of the way from the
 * trained loss to the unigram loss ({@link Lesions.Result#relative}), so models of different quality compare.
 *
 * <p>Thresholds, fixed before measuring: a layout <b>degrades gracefully</b> when the median single-block deletion
 * costs less than 1/L of the way (a block costs less than its share of the depth: what an additive ensemble of L
 * equal blocks would lose, while a chain of L essential links loses nearly everything); the plain stack
 * <b>collapses</b> when the median single deletion costs more than half the way; the loss rises
 * <b>monotonically</b> with k when no step k → k+1 lowers the mean loss by more than 2% of the way (the
 * draws' noise); LayerDrop <b>helps</b> when the mean damage over k = 1..L−1 is lower with P &gt; 0 than with P = 0
 * in every cell where both trained.
 */
final class LesionClaims {
    static final double COLLAPSE = 0.5, MONOTONE_SLACK = 0.02;
    static final List<ResidualLayout> RESIDUAL = List.of(PRE_LN, POST_LN, SANDWICH, DEEPNORM, REZERO);
    /** The residual family beyond x + F: a graceful-degradation row each when the study lesioned them (--layouts). */
    static final List<ResidualLayout> FAMILY = List.of(HIGHWAY, DENSE, UNET);

    private LesionClaims() {
    }

    /** The graceful-degradation threshold at depth L: a block's share of the depth. */
    static double graceful(int depth) {
        return 1.0 / depth;
    }

    /**
     * The lesion figures of one layout at one depth with one LayerDrop rate, over its trained, lesioned runs.
     *
     * @param medianSingle median over runs × blocks of the relative single-deletion damage
     * @param worstSingle  the largest relative single-deletion damage (runs' means per block, worst block)
     * @param meanDamage   mean over k = 1..L−1 of the relative damage of the mean loss at k, averaged over runs
     * @param relByK       relative damage of the mean loss at k = 0..L, averaged over runs
     * @param monotone     the run-averaged mean loss never falls by more than {@link #MONOTONE_SLACK} of the way
     */
    record Summary(ResidualLayout layout, int depth, double layerDrop, List<RunResult> runs, List<RunResult> trained,
                   double medianSingle, double worstSingle, double meanDamage, double[] relByK, boolean monotone) {
        double single(int block) {
            return Stats.mean(trained.stream().map(r -> r.lesion().singleRelative()[block]).toList());
        }
    }

    /** Summaries of every (layout, depth, layer drop) with lesioned runs, in layout, depth, rate order. */
    static List<Summary> summaries(List<RunResult> results) {
        Map<List<Object>, List<RunResult>> groups = new LinkedHashMap<>();
        results.stream().filter(r -> r.lesion() != null)
                .sorted(Comparator.comparing((RunResult r) -> r.spec().layout()).thenComparingInt(r -> r.spec().depth())
                        .thenComparingDouble(r -> r.spec().layerDrop()))
                .forEach(r -> groups.computeIfAbsent(List.of(r.spec().layout(), r.spec().depth(), r.spec().layerDrop()),
                        k -> new ArrayList<>()).add(r));
        List<Summary> out = new ArrayList<>();
        groups.forEach((k, runs) -> out.add(summary((ResidualLayout) k.get(0), (Integer) k.get(1), (Double) k.get(2), runs)));
        return out;
    }

    private static Summary summary(ResidualLayout layout, int depth, double layerDrop, List<RunResult> runs) {
        List<RunResult> trained = runs.stream().filter(RunResult::trained).toList();
        if (trained.isEmpty()) {
            return new Summary(layout, depth, layerDrop, runs, trained, Double.NaN, Double.NaN, Double.NaN, null, false);
        }
        double[] all = trained.stream().flatMapToDouble(r -> Arrays.stream(r.lesion().singleRelative())).toArray();
        double worst = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < depth; l++) {
            int block = l;
            worst = Math.max(worst, Stats.mean(trained.stream().map(r -> r.lesion().singleRelative()[block]).toList()));
        }
        double[] rel = Stats.elementwiseMean(trained.stream().map(r -> r.lesion().meanRelativeByK()).toList());
        double damage = depth < 2 ? Double.NaN : Stats.mean(Arrays.copyOfRange(rel, 1, depth));
        boolean monotone = true;
        for (int k = 0; k < depth; k++) {
            monotone &= rel[k + 1] >= rel[k] - MONOTONE_SLACK;
        }
        return new Summary(layout, depth, layerDrop, runs, trained, Stats.median(all), worst, damage, rel, monotone);
    }

    static List<Claim> evaluate(List<RunResult> results) {
        List<Summary> summaries = summaries(results);
        List<Summary> plain = summaries.stream().filter(s -> s.layerDrop() == 0).toList();
        List<Claim> out = new ArrayList<>();
        for (ResidualLayout layout : RESIDUAL) {
            out.add(graceful(plain, layout));
        }
        for (ResidualLayout layout : FAMILY) {
            if (plain.stream().anyMatch(s -> s.layout() == layout)) {
                out.add(graceful(plain, layout));
            }
        }
        out.add(collapse(plain));
        out.add(monotone(plain));
        out.add(layerDrop(summaries));
        return out;
    }

    private static Claim graceful(List<Summary> summaries, ResidualLayout layout) {
        String claim = layout.id() + " degrades gracefully under lesions: deleting one block costs less than its share "
                + "of the depth, 1/L of the way from the trained to the unigram loss (median over blocks and seeds)";
        String src = layout == PRE_LN ? "Veit et al. 2016 (ResNets); Gromov et al. 2024 (pre-LN LLMs)"
                : "Veit et al. 2016's claim for residual networks, asked of " + layout.id();
        List<Summary> mine = summaries.stream().filter(s -> s.layout() == layout).toList();
        String id = "lesion-" + layout.id();
        if (mine.isEmpty()) {
            return new Claim(id, claim, src, "no lesioned " + layout.id() + " run in this grid (--lesions)", "-", Status.NOT_MEASURED);
        }
        List<Summary> measured = mine.stream().filter(s -> !s.trained().isEmpty()).toList();
        String text = mine.stream().map(s -> s.trained().isEmpty()
                ? String.format(Locale.ROOT, "L%d: trained in 0 of %d runs", s.depth(), s.runs().size())
                : String.format(Locale.ROOT, "L%d: median %.1f%% (threshold %.1f%%), worst block %.1f%%, %d of %d runs trained",
                        s.depth(), 100 * s.medianSingle(), 100 * graceful(s.depth()), 100 * s.worstSingle(),
                        s.trained().size(), s.runs().size())).collect(Collectors.joining("; "));
        if (measured.isEmpty()) {
            return new Claim(id, claim, src, text + ": no trained model to lesion", "-", Status.NOT_MEASURED);
        }
        boolean ok = measured.stream().allMatch(s -> s.medianSingle() < graceful(s.depth()));
        return new Claim(id, claim, src, text, seeds(measured), ok ? Status.REPRODUCED : Status.NOT_REPRODUCED);
    }

    private static Claim collapse(List<Summary> summaries) {
        String claim = "The plain stack (none) collapses under lesions: deleting one block costs more than half the way to the unigram loss (median)";
        String src = "Veit et al. 2016 (VGG: deleting any layer is catastrophic)";
        List<Summary> none = summaries.stream().filter(s -> s.layout() == NONE).toList();
        if (none.isEmpty()) {
            return new Claim("lesion-none", claim, src, "no lesioned none run in this grid (--lesions)", "-", Status.NOT_MEASURED);
        }
        List<Summary> measured = none.stream().filter(s -> !s.trained().isEmpty()).toList();
        String text = none.stream().map(s -> s.trained().isEmpty()
                ? String.format(Locale.ROOT, "L%d: trained in 0 of %d runs (a stack that learned nothing has nothing to lose)",
                s.depth(), s.runs().size())
                : String.format(Locale.ROOT, "L%d: median %.0f%%, mildest block %.0f%%, %d of %d runs trained", s.depth(),
                        100 * s.medianSingle(), 100 * mildest(s), s.trained().size(), s.runs().size()))
                .collect(Collectors.joining("; "));
        if (measured.isEmpty()) {
            return new Claim("lesion-none", claim, src, text, "-", Status.NOT_MEASURED);
        }
        boolean ok = measured.stream().allMatch(s -> s.medianSingle() > COLLAPSE);
        return new Claim("lesion-none", claim, src, text, seeds(measured), ok ? Status.REPRODUCED : Status.NOT_REPRODUCED);
    }

    private static double mildest(Summary s) {
        double m = Double.POSITIVE_INFINITY;
        for (int l = 0; l < s.depth(); l++) {
            m = Math.min(m, s.single(l));
        }
        return m;
    }

    private static Claim monotone(List<Summary> summaries) {
        String claim = "Deleting k random blocks raises the loss monotonically with k in every residual layout (mean over subsets and seeds)";
        String src = "Veit et al. 2016 (error rises smoothly with the number of deleted blocks)";
        List<Summary> residual = summaries.stream().filter(s -> s.layout() != NONE && !s.trained().isEmpty()).toList();
        if (residual.isEmpty()) {
            return new Claim("lesion-k", claim, src, "no trained, lesioned residual run in this grid", "-", Status.NOT_MEASURED);
        }
        String text = residual.stream().map(s -> String.format(Locale.ROOT, "%s L%d %s (k = L/2: %.0f%%, k = L: %.0f%%)",
                s.layout().id(), s.depth(), s.monotone() ? "monotone" : "NOT monotone",
                100 * s.relByK()[s.depth() / 2], 100 * s.relByK()[s.depth()])).collect(Collectors.joining("; "));
        boolean ok = residual.stream().allMatch(Summary::monotone);
        return new Claim("lesion-k", claim, src, text + " (of the way to the unigram loss)", seeds(residual),
                ok ? Status.REPRODUCED : Status.NOT_REPRODUCED);
    }

    private static Claim layerDrop(List<Summary> summaries) {
        String claim = "Models trained with LayerDrop (P > 0) lose less under lesions than the same models trained with P = 0 (mean damage over k = 1..L−1)";
        String src = "Huang et al. 2016 (stochastic depth); Fan et al. 2020 (LayerDrop)";
        Map<List<Object>, Summary> plain = new HashMap<>();
        summaries.stream().filter(s -> s.layerDrop() == 0 && !s.trained().isEmpty())
                .forEach(s -> plain.put(List.of(s.layout(), s.depth()), s));
        List<String> better = new ArrayList<>(), worse = new ArrayList<>();
        List<Summary> used = new ArrayList<>();
        for (Summary s : summaries) {
            Summary base = plain.get(List.of(s.layout(), s.depth()));
            if (s.layerDrop() == 0 || s.trained().isEmpty() || base == null || !Double.isFinite(s.meanDamage())) {
                continue;
            }
            used.add(s);
            used.add(base);
            (s.meanDamage() < base.meanDamage() ? better : worse).add(String.format(Locale.ROOT, "%s L%d %.0f%% → %.0f%% at P = %s",
                    s.layout().id(), s.depth(), 100 * base.meanDamage(), 100 * s.meanDamage(), StudyGrid.lr(s.layerDrop())));
        }
        if (used.isEmpty()) {
            return new Claim("lesion-layer-drop", claim, src,
                    "needs trained, lesioned runs with P = 0 and P > 0 of one layout and depth (--layer-drops 0,0.2 --lesions N)",
                    "-", Status.NOT_MEASURED);
        }
        String text = String.format(Locale.ROOT, "less damage with P > 0 in %d of %d cells%s%s", better.size(),
                better.size() + worse.size(), better.isEmpty() ? "" : ": " + String.join("; ", better),
                worse.isEmpty() ? "" : ". Not: " + String.join("; ", worse));
        return new Claim("lesion-layer-drop", claim, src, text, seeds(used),
                worse.isEmpty() ? Status.REPRODUCED : Status.NOT_REPRODUCED);
    }

    private static String seeds(List<Summary> summaries) {
        return Claims.seeds(summaries.stream().flatMap(s -> s.trained().stream()), "depth");
    }

    static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.1f%%", 100 * fraction) : "–";
    }

    static boolean any(List<RunResult> results) {
        return results.stream().map(RunResult::lesion).anyMatch(Objects::nonNull);
    }
}
