package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The study's plots (each as PNG and SVG, see {@link Chart}) and the pass/fail table ({@link PassFailTable}). */
public final class StudyPlots {
    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static final Map<ResidualLayout, Color> COLORS = new EnumMap<>(Map.of(
            ResidualLayout.POST_LN, new Color(0xD62728),
            ResidualLayout.PRE_LN, new Color(0x1F77B4),
            ResidualLayout.SANDWICH, new Color(0x2CA02C),
            ResidualLayout.DEEPNORM, new Color(0x9467BD),
            ResidualLayout.REZERO, new Color(0xFF7F0E),
            ResidualLayout.HIGHWAY, new Color(0x8C564B),
            ResidualLayout.DENSE, new Color(0x17BECF),
            ResidualLayout.UNET, new Color(0xE377C2),
            ResidualLayout.NONE, new Color(0x7F7F7F)));

    private StudyPlots() {
    }

    /** Writes every plot the results allow; returns their base names (without extension). */
    public static List<String> writeAll(List<RunResult> results, Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        for (InitScheme init : InitScheme.values()) {
            List<RunResult> rs = results.stream().filter(r -> r.spec().init() == init).toList();
            if (rs.isEmpty()) {
                continue;
            }
            add(names, dir, "grad-vs-layer-" + init.id(), gradVsLayer(rs, init));
            add(names, dir, "last-layer-grad-vs-depth-" + init.id(), lastLayerVsDepth(rs, init));
            add(names, dir, "residual-vs-layer-" + init.id(), residualVsLayer(rs, init));
            add(names, dir, "loss-curves-" + init.id(), lossCurves(rs, init));
            add(names, dir, "update-size-" + init.id(), updateSize(rs, init));
        }
        // one pass/fail table per training regime (steps, clipping, LayerDrop), so each shows only its own cells
        var regimes = StudyResults.regimes(results);
        for (StudyResults.Regime regime : regimes) {
            List<RunResult> rs = results.stream().filter(r -> !r.spec().probeOnly()
                    && StudyResults.Regime.of(r.spec()).equals(regime)).toList();
            String name = regimes.size() == 1 ? "pass-fail" : "pass-fail-" + regime.label().replace(", ", "-").replace(' ', '-');
            new PassFailTable(rs, regimes.size() == 1 ? "" : regime.label()).write(dir, name);
            names.add(name);
        }
        lesions(results, dir, names);
        landscapes(results, dir, names);
        return names;
    }

    /**
     * Per cell setting with landscape runs (the same depth, lr, warmup, init and regime): the loss along the direction
     * per layout, trained solid and at init dashed (mean over the counted runs of the rise above the loss at the
     * weights, so layouts at different losses compare), and λ_max per layout, one point per seed.
     */
    private static void landscapes(List<RunResult> results, Path dir, List<String> names) throws IOException {
        List<LandscapeClaims.Summary> summaries = LandscapeClaims.summaries(results);
        java.util.LinkedHashMap<StudyResults.Cell, List<LandscapeClaims.Summary>> settings = new java.util.LinkedHashMap<>();
        summaries.forEach(sm -> settings.computeIfAbsent(sm.cell().with(ResidualLayout.NONE), k -> new ArrayList<>()).add(sm));
        int index = 0;
        for (var e : settings.entrySet()) {
            String suffix = settings.size() == 1 ? "" : "-" + (++index);
            String label = e.getKey().fullLabel();
            Chart lines = new Chart("Loss along a filter-normalised direction, " + label + " (solid trained, dashed at init)",
                    "α (in units of the weights' filter norms)", "loss(α) − loss(0), mean of seeds (nats)", false, false);
            List<ResidualLayout> layouts = new ArrayList<>();
            for (LandscapeClaims.Summary sm : e.getValue()) {
                if (sm.counted().isEmpty()) {
                    continue;
                }
                if (!layouts.contains(sm.layout())) {
                    layouts.add(sm.layout());
                }
                double[] rise = Stats.elementwiseMean(sm.counted().stream().map(r -> {
                    ModelLandscape.Result l = sm.weights().of(r);
                    return Arrays.stream(l.line().losses()).map(v -> v - l.loss()).toArray();
                }).toList());
                double[] alphas = sm.weights().of(sm.counted().get(0)).line().alphas();
                boolean init = sm.weights() == LandscapeClaims.Weights.INIT;
                XYSeries series = lines.series(sm.layout().id() + (init ? " at init" : " trained") + " (" + sm.counted().size()
                        + ")", list(alphas), list(rise), COLORS.get(sm.layout()));
                if (series != null) {
                    series.setMarker(SeriesMarkers.NONE);
                    if (init) {
                        series.setLineStyle(SeriesLines.DASH_DASH);
                    }
                }
            }
            add(names, dir, "landscape-1d" + suffix, lines);
            Chart sharpness = new Chart("Top Hessian eigenvalue per layout, " + label + " (one point per seed)",
                    "layout (in the legend's order; diamonds at init, dots after training)", "λ_max (log scale)", false, true);
            sharpness.styler().setXAxisTicksVisible(false);
            for (LandscapeClaims.Summary sm : e.getValue()) {
                boolean init = sm.weights() == LandscapeClaims.Weights.INIT;
                List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                for (double v : sm.values(LandscapeClaims.Measure.LAMBDA_MAX.value)) {
                    x.add(layouts.indexOf(sm.layout()) + 1 + (init ? -0.12 : 0.12));
                    y.add(v);
                }
                XYSeries series = sharpness.series(sm.layout().id() + " " + sm.weights().text, x, y, COLORS.get(sm.layout()));
                if (series != null) {
                    series.setLineStyle(SeriesLines.NONE);
                    series.setMarker(init ? SeriesMarkers.DIAMOND : SeriesMarkers.CIRCLE);
                }
            }
            add(names, dir, "landscape-sharpness" + suffix, sharpness);
        }
    }

    /**
     * Per lesioned depth: single deletions and loss against k per layout (trained runs without LayerDrop, mean of
     * seeds), and the damage against k with and without LayerDrop when the study trained both.
     */
    private static void lesions(List<RunResult> results, Path dir, List<String> names) throws IOException {
        List<LesionClaims.Summary> summaries = LesionClaims.summaries(results);
        TreeSet<Integer> depths = new TreeSet<>();
        summaries.forEach(s -> depths.add(s.depth()));
        for (int depth : depths) {
            List<LesionPlots.Curve> plain = new ArrayList<>(), drop = new ArrayList<>();
            for (LesionClaims.Summary s : summaries) {
                if (s.depth() != depth || s.trained().isEmpty()) {
                    continue;
                }
                List<Lesions.Result> rs = s.trained().stream().map(RunResult::lesion).toList();
                String trained = " (" + s.trained().size() + "/" + s.runs().size() + " trained)";
                if (s.layerDrop() == 0) {
                    plain.add(new LesionPlots.Curve(s.layout().id() + trained, COLORS.get(s.layout()), false, rs));
                }
                drop.add(new LesionPlots.Curve(s.layout().id() + (s.layerDrop() > 0 ? ", P = " + StudyGrid.lr(s.layerDrop()) : "")
                        + trained, COLORS.get(s.layout()), s.layerDrop() > 0, rs));
            }
            String setting = lesionSetting(results, depth);
            add(names, dir, "lesion-single-L" + depth, plain.isEmpty() ? null : LesionPlots.singleDeletions(
                    "Deleting one block, L = " + depth + setting + " (mean of seeds)", plain));
            add(names, dir, "lesion-vs-k-L" + depth, plain.isEmpty() ? null : LesionPlots.lossVsK(
                    "Deleting k random blocks, L = " + depth + setting, plain));
            if (drop.size() > plain.size()) {
                add(names, dir, "lesion-layer-drop-L" + depth, LesionPlots.damageVsK(
                        "Damage against k, LayerDrop dashed, L = " + depth + setting, drop));
            }
        }
    }

    /** ", lr 5e-04, warmup, xavier, 500 steps": how the lesioned runs at this depth trained, when they share it. */
    private static String lesionSetting(List<RunResult> results, int depth) {
        List<String> settings = results.stream().filter(r -> r.lesion() != null && r.spec().depth() == depth)
                .map(r -> String.format(Locale.ROOT, ", lr %.0e, %s, %s, %d steps", r.spec().lr(),
                        r.spec().warmup() ? "warmup" : "no warmup", r.spec().init().id(), r.spec().steps()))
                .distinct().toList();
        return settings.size() == 1 ? settings.get(0) : "";
    }

    private static void add(List<String> names, Path dir, String name, Chart chart) throws IOException {
        if (chart != null && !chart.isEmpty()) {
            chart.write(dir, name);
            names.add(name);
        }
    }

    private static int deepest(List<RunResult> rs) {
        return rs.stream().mapToInt(r -> r.spec().depth()).max().orElse(0);
    }

    private static TreeSet<ResidualLayout> layouts(List<RunResult> rs) {
        TreeSet<ResidualLayout> s = new TreeSet<>();
        rs.forEach(r -> s.add(r.spec().layout()));
        return s;
    }

    private static List<Double> range(int from, int to) {
        List<Double> l = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            l.add((double) i);
        }
        return l;
    }

    private static List<Double> list(double[] a) {
        return Arrays.stream(a).boxed().toList();
    }

    private static Chart gradVsLayer(List<RunResult> rs, InitScheme init) {
        int D = deepest(rs);
        Chart chart = new Chart("Gradient norm per block at init (L = " + D + ", " + init.id() + " init)", "block l",
                "‖∂loss/∂θ_block‖ (log scale)", false, true);
        for (ResidualLayout layout : layouts(rs)) {
            double[] g = StudyResults.initMeanProfile(rs, layout, init, D, d -> d.gradients().block());
            if (g != null) {
                chart.series(layout.id(), range(1, D), list(g), COLORS.get(layout));
            }
        }
        return chart;
    }

    private static Chart lastLayerVsDepth(List<RunResult> rs, InitScheme init) {
        Chart chart = new Chart("Last-layer FFN gradient ‖∂loss/∂W²_L‖ at init vs depth (" + init.id() + " init)",
                "depth L (log scale)", "‖∂loss/∂W²_L‖_F (log scale)", true, true);
        TreeMap<Integer, Double> pre = null;
        for (ResidualLayout layout : layouts(rs)) {
            TreeMap<Integer, Double> g = StudyResults.initMean(rs, layout, init, d -> d.gradients().lastLayerFfn());
            if (g.size() < 2) {
                continue;
            }
            String name = layout == ResidualLayout.REZERO ? "rezero (0 at init: a = 0)" : layout.id();
            chart.series(name, g.keySet().stream().map(Integer::doubleValue).toList(), new ArrayList<>(g.values()),
                    COLORS.get(layout));
            if (layout == ResidualLayout.PRE_LN) {
                pre = g;
            }
        }
        if (pre != null && pre.firstEntry().getValue() > 0) {
            // c/√L through pre-LN's shallowest point: the slope Thm 1 predicts for pre-LN
            double k = pre.firstEntry().getValue() * Math.sqrt(pre.firstKey());
            List<Double> x = pre.keySet().stream().map(Integer::doubleValue).toList();
            chart.reference("∝ 1/√L", x, x.stream().map(l -> k / Math.sqrt(l)).toList(), Color.BLACK);
        }
        return chart;
    }

    private static Chart residualVsLayer(List<RunResult> rs, InitScheme init) {
        int D = deepest(rs);
        Chart chart = new Chart("Residual stream at init vs Lemma 2's band (L = " + D + ", " + init.id() + " init)",
                "blocks applied l", "ρ_l = 1 + m_l − m_0,  m_l = mean ‖x_l‖²/d", false, false);
        for (ResidualLayout layout : List.of(ResidualLayout.PRE_LN, ResidualLayout.SANDWICH, ResidualLayout.REZERO)) {
            double[] rho = StudyResults.initMeanProfile(rs, layout, init, D, RunResult.InitDiagnostics::lemma2Rho);
            if (rho != null) {
                chart.series(layout.id(), range(0, D), list(rho), COLORS.get(layout));
            }
        }
        if (chart.isEmpty()) {
            return chart;
        }
        List<Double> x = range(0, D);
        chart.reference("1 + 3l/2 (Lemma 2 upper)", x, x.stream().map(l -> Diagnostics.lemma2Upper(l.intValue())).toList(), Color.DARK_GRAY);
        chart.reference("1 + l/2 (Lemma 2 lower)", x, x.stream().map(l -> Diagnostics.lemma2Lower(l.intValue())).toList(), Color.BLACK);
        return chart;
    }

    /**
     * The cell shown in loss curves: without LayerDrop or clipping, the deepest trained depth, the largest lr,
     * warmup off if present, the longest training.
     */
    private static RunSpec showcase(List<RunResult> rs) {
        return rs.stream().filter(r -> !r.spec().probeOnly() && r.spec().layerDrop() == 0 && r.spec().clip() == 0)
                .map(RunResult::spec)
                .max(Comparator.comparingInt(RunSpec::depth).thenComparingDouble(RunSpec::lr)
                        .thenComparing(s -> !s.warmup()).thenComparingInt(RunSpec::steps))
                .orElse(null);
    }

    private static boolean sameCell(RunSpec a, RunSpec b) {
        return a.depth() == b.depth() && a.lr() == b.lr() && a.warmup() == b.warmup()
                && StudyResults.Regime.of(a).equals(StudyResults.Regime.of(b));
    }

    private static String cellTitle(RunSpec cell, InitScheme init) {
        return String.format(Locale.ROOT, "L = %d, lr %.0e, %s, %s init, %s", cell.depth(), cell.lr(),
                cell.warmup() ? "warmup" : "no warmup", init.id(), StudyResults.Regime.of(cell).label());
    }

    private static Chart lossCurves(List<RunResult> rs, InitScheme init) {
        RunSpec cell = showcase(rs);
        if (cell == null) {
            return null;
        }
        Chart chart = new Chart("Training loss, " + cellTitle(cell, init) + " (mean of seeds, 10-step average)", "step",
                "loss (nats)", false, false);
        chart.styler().setXAxisMin(0.0).setXAxisMax((double) cell.steps());
        double unigram = Double.NaN;
        // post-LN last, so a stuck post-LN is drawn on top of a stuck plain stack, not hidden under it
        List<ResidualLayout> order = new ArrayList<>(layouts(rs));
        if (order.remove(ResidualLayout.POST_LN)) {
            order.add(ResidualLayout.POST_LN);
        }
        for (ResidualLayout layout : order) {
            List<RunResult> runs = rs.stream().filter(r -> r.spec().layout() == layout && sameCell(r.spec(), cell)).toList();
            if (runs.isEmpty()) {
                continue;
            }
            unigram = runs.get(0).unigramLoss();
            int n = runs.stream().mapToInt(r -> r.lossCurve().length).max().orElse(0);
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                double s = 0;
                int k = 0;
                for (RunResult r : runs) {
                    for (int u = Math.max(0, t - 9); u <= t && u < r.lossCurve().length; u++) {
                        s += r.lossCurve()[u];
                        k++;
                    }
                }
                if (k > 0) {
                    x.add(t + 1.0);
                    y.add(s / k);
                }
            }
            long trained = runs.stream().filter(RunResult::trained).count();
            XYSeries s = chart.series(layout.id() + " (" + trained + "/" + runs.size() + " trained)", x, y, COLORS.get(layout));
            if (s != null) {
                s.setMarker(SeriesMarkers.NONE);
                if (layout == ResidualLayout.NONE) {
                    s.setLineStyle(SeriesLines.DOT_DOT);
                }
            }
        }
        if (Double.isFinite(unigram) && !chart.isEmpty()) {
            // starts at 0.5: with only equally spaced x values XChart ticks every n-th step (0, 9, 18, ...)
            // instead of round numbers
            chart.reference(String.format(Locale.ROOT, "unigram loss %.2f", unigram), List.of(0.5, (double) cell.steps()),
                    List.of(unigram, unigram), Color.BLACK);
        }
        return chart;
    }

    private static Chart updateSize(List<RunResult> rs, InitScheme init) {
        RunSpec cell = showcase(rs);
        if (cell == null) {
            return null;
        }
        Chart chart = new Chart("Model update ‖F(θ_t) − F(θ_0)‖ on the probe batch, " + cellTitle(cell, init),
                "step t (log scale)", "RMS logit change (log scale)", true, true);
        for (ResidualLayout layout : layouts(rs)) {
            Map<Integer, List<Double>> bySteps = new TreeMap<>();
            rs.stream().filter(r -> r.spec().layout() == layout && sameCell(r.spec(), cell))
                    .flatMap(r -> r.early().stream())
                    .forEach(e -> bySteps.computeIfAbsent(e.step(), k -> new ArrayList<>()).add(e.updateSize()));
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            bySteps.forEach((t, v) -> {
                x.add((double) t);
                y.add(Stats.mean(v));
            });
            chart.series(layout.id(), x, y, COLORS.get(layout));
        }
        return chart;
    }
}
