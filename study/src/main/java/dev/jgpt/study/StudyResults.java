package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * How the claims, the report and the plots read a study's results: training runs grouped into grid cells
 * with their seeds' verdicts, and measurements at init averaged over seeds. A cell "trains" or "fails"
 * by the majority of its seeds.
 */
final class StudyResults {
    /**
     * How long and how a run trained besides its lr and warmup: steps, clipping (0 = off) and LayerDrop (0 = off).
     * Cells are compared only within one regime.
     */
    record Regime(int steps, double clip, double layerDrop) implements Comparable<Regime> {
        static Regime of(RunSpec s) {
            return new Regime(s.steps(), s.clip(), s.layerDrop());
        }

        /** "500 steps", "1500 steps, clip 1", "500 steps, layer drop 0.2". */
        String label() {
            return steps + " steps" + (clip > 0 ? ", clip " + StudyGrid.lr(clip) : "")
                    + (layerDrop > 0 ? ", layer drop " + StudyGrid.lr(layerDrop) : "");
        }

        @Override
        public int compareTo(Regime o) {
            return Comparator.comparingDouble(Regime::layerDrop).thenComparingDouble(Regime::clip)
                    .thenComparingInt(Regime::steps).compare(this, o);
        }
    }

    /** One training cell: everything but the seed. */
    record Cell(ResidualLayout layout, int depth, double lr, boolean warmup, InitScheme init, Regime regime) {
        Cell with(ResidualLayout l) {
            return new Cell(l, depth, lr, warmup, init, regime);
        }

        Cell withWarmup(boolean w) {
            return new Cell(layout, depth, lr, w, init, regime);
        }

        String label() {
            return String.format(Locale.ROOT, "L%d lr %.0e %s %s", depth, lr, warmup ? "warmup" : "no warmup", init.id());
        }

        /** The label with the regime: "L12 lr 1e-03 no warmup xavier, 1500 steps". */
        String fullLabel() {
            return label() + ", " + regime.label();
        }
    }

    private StudyResults() {
    }

    /** The training runs (not the init probes) per cell, in the order of the results. */
    static Map<Cell, List<RunResult>> cells(List<RunResult> results) {
        Map<Cell, List<RunResult>> m = new LinkedHashMap<>();
        for (RunResult r : results) {
            if (!r.spec().probeOnly()) {
                RunSpec s = r.spec();
                m.computeIfAbsent(new Cell(s.layout(), s.depth(), s.lr(), s.warmup(), s.init(), Regime.of(s)),
                        k -> new ArrayList<>()).add(r);
            }
        }
        return m;
    }

    /** The regimes of the training runs, in order (the plain ones first: no LayerDrop, no clipping, fewest steps). */
    static java.util.TreeSet<Regime> regimes(List<RunResult> results) {
        java.util.TreeSet<Regime> out = new java.util.TreeSet<>();
        results.stream().filter(r -> !r.spec().probeOnly()).forEach(r -> out.add(Regime.of(r.spec())));
        return out;
    }

    /** How many of the runs got this verdict ({@link RunResult#TRAINED}, ...). */
    static long count(List<RunResult> runs, String verdict) {
        return runs.stream().filter(r -> verdict.equals(r.verdict())).count();
    }

    /** Most seeds trained; false for a cell not in the grid (null). */
    static boolean trains(List<RunResult> runs) {
        return runs != null && count(runs, RunResult.TRAINED) * 2 > runs.size();
    }

    /** Most seeds got stuck or diverged; false for a cell not in the grid (null). */
    static boolean fails(List<RunResult> runs) {
        return runs != null && runs.stream().filter(RunResult::failed).count() * 2 > runs.size();
    }

    /** One letter per seed in seed order (T trained, s slow, S stuck, D@step diverged), then the mean validation loss. */
    static String cellText(List<RunResult> runs) {
        StringBuilder sb = new StringBuilder();
        for (RunResult r : runs.stream().sorted(Comparator.comparingLong(r -> r.spec().seed())).toList()) {
            sb.append(switch (r.verdict()) {
                case RunResult.TRAINED -> "T";
                case RunResult.SLOW -> "s";
                case RunResult.STUCK -> "S";
                default -> "D" + (r.divergedAtStep() != null ? "@" + r.divergedAtStep() : "");
            });
        }
        double mean = runs.stream().mapToDouble(RunResult::valLoss).filter(Double::isFinite).average().orElse(Double.NaN);
        return sb + (Double.isFinite(mean) ? String.format(Locale.ROOT, " %.2f", mean) : "");
    }

    /**
     * A measurement at init per depth for one layout and init, averaged over distinct seeds: the training runs
     * of one seed at one depth share their init, so each seed counts once.
     */
    static TreeMap<Integer, Double> initMean(List<RunResult> results, ResidualLayout layout, InitScheme init,
                                             ToDoubleFunction<RunResult.InitDiagnostics> f) {
        Map<Integer, Map<Long, Double>> bySeed = new TreeMap<>();
        for (RunResult r : results) {
            if (r.spec().layout() == layout && r.spec().init() == init) {
                bySeed.computeIfAbsent(r.spec().depth(), d -> new TreeMap<>())
                        .putIfAbsent(r.spec().seed(), f.applyAsDouble(r.atInit()));
            }
        }
        TreeMap<Integer, Double> mean = new TreeMap<>();
        bySeed.forEach((d, m) -> mean.put(d, Stats.mean(m.values())));
        return mean;
    }

    /** A per-layer measurement at init (one value per block or per stream position), averaged over distinct seeds; null if none. */
    static double[] initMeanProfile(List<RunResult> results, ResidualLayout layout, InitScheme init, int depth,
                                    Function<RunResult.InitDiagnostics, double[]> f) {
        Map<Long, double[]> bySeed = new TreeMap<>();
        for (RunResult r : results) {
            RunSpec s = r.spec();
            if (s.layout() == layout && s.init() == init && s.depth() == depth) {
                bySeed.putIfAbsent(s.seed(), f.apply(r.atInit()));
            }
        }
        return Stats.elementwiseMean(bySeed.values());
    }
}
