package dev.jgpt.study;

import de.erichseifert.vectorgraphics2d.Processors;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The study's plots, each written as PNG and SVG (XChart; the pass/fail table is drawn directly). */
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
            ResidualLayout.NONE, new Color(0x7F7F7F)));
    private static final int W = 900, H = 560;

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
        if (results.stream().anyMatch(r -> !r.spec().probeOnly())) {
            PassFailTable table = new PassFailTable(results);
            table.write(dir.resolve("pass-fail"));
            names.add("pass-fail");
        }
        return names;
    }

    private static void add(List<String> names, Path dir, String name, Plot plot) throws IOException {
        if (plot == null || plot.isEmpty()) {
            return;
        }
        XYChart chart = plot.chart;
        BitmapEncoder.saveBitmap(chart, dir.resolve(name + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(chart, dir.resolve(name + ".svg").toString(),
                VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        names.add(name);
    }

    /**
     * A chart whose log axes are drawn as linear axes over log2 (x) or log10 (y) of the data with the tick
     * labels mapped back: XChart's own log axes label only powers of ten, which leaves depths 2..32 bare.
     */
    static final class Plot {
        final XYChart chart;
        final boolean logX, logY;

        Plot(String title, String x, String y, boolean logX, boolean logY) {
            this.logX = logX;
            this.logY = logY;
            chart = new XYChartBuilder().width(W).height(H).title(title).xAxisTitle(x).yAxisTitle(y).build();
            XYStyler s = chart.getStyler();
            s.setLegendPosition(Styler.LegendPosition.OutsideE);
            s.setChartBackgroundColor(Color.WHITE);
            s.setPlotBackgroundColor(Color.WHITE);
            s.setPlotGridLinesColor(new Color(0xDDDDDD));
            s.setLegendBorderColor(Color.WHITE);
            s.setMarkerSize(7);
            s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            if (logX) {
                // label powers of two only; XChart also puts ticks at half steps (2^1.5 = 2.83...)
                s.setxAxisTickLabelsFormattingFunction(v -> Math.abs(v - Math.rint(v)) < 1e-9 ? number(Math.pow(2, v)) : " ");
            }
            if (logY) {
                s.setyAxisTickLabelsFormattingFunction(v -> number(Math.pow(10, v)));
            }
        }

        /** 3 significant digits without trailing zeros: 0.1, 0.0316, 2, 1E-6. */
        static String number(double v) {
            java.math.BigDecimal b = new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros();
            return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? b.toPlainString() : b.toString();
        }

        /** Adds x/y points, dropping non-finite ones and, on a log axis, non-positive ones. */
        XYSeries series(String name, List<Double> x, List<Double> y, Color color) {
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (int i = 0; i < x.size(); i++) {
                double a = x.get(i), b = y.get(i);
                if (Double.isFinite(a) && Double.isFinite(b) && (!logX || a > 0) && (!logY || b > 0)) {
                    xs.add(logX ? Math.log(a) / Math.log(2) : a);
                    ys.add(logY ? Math.log10(b) : b);
                }
            }
            if (xs.isEmpty()) {
                return null;
            }
            XYSeries s = chart.addSeries(name, xs, ys);
            s.setLineColor(color);
            s.setMarkerColor(color);
            s.setMarker(SeriesMarkers.CIRCLE);
            return s;
        }

        /** A dashed reference line without markers. */
        void reference(String name, List<Double> x, List<Double> y, Color color) {
            XYSeries s = series(name, x, y, color);
            if (s != null) {
                s.setLineStyle(SeriesLines.DASH_DASH);
                s.setMarker(SeriesMarkers.NONE);
            }
        }

        boolean isEmpty() {
            return chart.getSeriesMap().isEmpty();
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

    /** Mean over distinct seeds of an init vector for (layout, depth). */
    private static double[] meanInit(List<RunResult> rs, ResidualLayout layout, int depth,
                                     java.util.function.Function<RunResult.InitDiagnostics, double[]> f) {
        Map<Long, double[]> bySeed = new TreeMap<>();
        for (RunResult r : rs) {
            if (r.spec().layout() == layout && r.spec().depth() == depth) {
                bySeed.putIfAbsent(r.spec().seed(), f.apply(r.atInit()));
            }
        }
        if (bySeed.isEmpty()) {
            return null;
        }
        double[] mean = new double[bySeed.values().iterator().next().length];
        for (double[] v : bySeed.values()) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += v[i] / bySeed.size();
            }
        }
        return mean;
    }

    private static List<Double> range(int from, int to) {
        List<Double> l = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            l.add((double) i);
        }
        return l;
    }

    private static List<Double> list(double[] a, int from) {
        List<Double> l = new ArrayList<>();
        for (int i = from; i < a.length; i++) {
            l.add(a[i]);
        }
        return l;
    }

    static Plot gradVsLayer(List<RunResult> rs, InitScheme init) {
        int D = deepest(rs);
        Plot p = new Plot("Gradient norm per block at init (L = " + D + ", " + init.id() + " init)", "block l",
                "‖∂loss/∂θ_block‖ (log scale)", false, true);
        for (ResidualLayout layout : layouts(rs)) {
            double[] g = meanInit(rs, layout, D, d -> d.gradients().block());
            if (g != null) {
                p.series(layout.id(), range(1, D), list(g, 0), COLORS.get(layout));
            }
        }
        return p;
    }

    static Plot lastLayerVsDepth(List<RunResult> rs, InitScheme init) {
        Plot p = new Plot("Last-layer FFN gradient ‖∂loss/∂W²_L‖ at init vs depth (" + init.id() + " init)",
                "depth L (log scale)", "‖∂loss/∂W²_L‖_F (log scale)", true, true);
        TreeMap<Integer, Double> pre = null;
        for (ResidualLayout layout : layouts(rs)) {
            TreeMap<Integer, Double> g = Claims.initMean(rs, layout, init, d -> d.gradients().lastLayerFfn());
            if (g.size() < 2) {
                continue;
            }
            String name = layout == ResidualLayout.REZERO ? "rezero (0 at init: a = 0)" : layout.id();
            p.series(name, g.keySet().stream().map(Integer::doubleValue).toList(), new ArrayList<>(g.values()),
                    COLORS.get(layout));
            if (layout == ResidualLayout.PRE_LN) {
                pre = g;
            }
        }
        if (pre != null && pre.firstEntry().getValue() > 0) {
            // c/√L through pre-LN's shallowest point: the slope Thm 1 predicts for pre-LN
            double k = pre.firstEntry().getValue() * Math.sqrt(pre.firstKey());
            List<Double> x = pre.keySet().stream().map(Integer::doubleValue).toList();
            p.reference("∝ 1/√L", x, x.stream().map(l -> k / Math.sqrt(l)).toList(), Color.BLACK);
        }
        return p;
    }

    static Plot residualVsLayer(List<RunResult> rs, InitScheme init) {
        int D = deepest(rs);
        Plot p = new Plot("Residual stream at init vs Lemma 2's band (L = " + D + ", " + init.id() + " init)",
                "blocks applied l", "ρ_l = 1 + m_l − m_0,  m_l = mean ‖x_l‖²/d", false, false);
        for (ResidualLayout layout : List.of(ResidualLayout.PRE_LN, ResidualLayout.SANDWICH, ResidualLayout.REZERO)) {
            double[] rho = meanInit(rs, layout, D, RunResult.InitDiagnostics::lemma2Rho);
            if (rho != null) {
                p.series(layout.id(), range(0, D), list(rho, 0), COLORS.get(layout));
            }
        }
        if (p.isEmpty()) {
            return p;
        }
        List<Double> x = range(0, D);
        p.reference("1 + 3l/2 (Lemma 2 upper)", x, x.stream().map(l -> Diagnostics.lemma2Upper(l.intValue())).toList(), Color.DARK_GRAY);
        p.reference("1 + l/2 (Lemma 2 lower)", x, x.stream().map(l -> Diagnostics.lemma2Lower(l.intValue())).toList(), Color.BLACK);
        return p;
    }

    /** The cell shown in loss curves: the deepest trained depth, the largest lr, warmup off if present. */
    private static RunSpec showcase(List<RunResult> rs) {
        return rs.stream().filter(r -> !r.spec().probeOnly()).map(RunResult::spec)
                .max(Comparator.comparingInt(RunSpec::depth).thenComparingDouble(RunSpec::lr)
                        .thenComparing(s -> !s.warmup()))
                .orElse(null);
    }

    private static boolean sameCell(RunSpec a, RunSpec b) {
        return a.depth() == b.depth() && a.lr() == b.lr() && a.warmup() == b.warmup() && a.steps() == b.steps();
    }

    private static String cellTitle(RunSpec cell, InitScheme init) {
        return String.format(Locale.ROOT, "L = %d, lr %.0e, %s, %s init", cell.depth(), cell.lr(),
                cell.warmup() ? "warmup" : "no warmup", init.id());
    }

    static Plot lossCurves(List<RunResult> rs, InitScheme init) {
        RunSpec cell = showcase(rs);
        if (cell == null) {
            return null;
        }
        Plot p = new Plot("Training loss, " + cellTitle(cell, init) + " (mean of seeds, 10-step average)", "step",
                "loss (nats)", false, false);
        p.chart.getStyler().setXAxisMin(0.0).setXAxisMax((double) cell.steps());
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
            XYSeries s = p.series(layout.id() + " (" + trained + "/" + runs.size() + " trained)", x, y, COLORS.get(layout));
            if (s != null) {
                s.setMarker(SeriesMarkers.NONE);
                if (layout == ResidualLayout.NONE) {
                    s.setLineStyle(SeriesLines.DOT_DOT);
                }
            }
        }
        if (Double.isFinite(unigram) && !p.isEmpty()) {
            // starts at 0.5: with only equally spaced x values XChart ticks every n-th step (0, 9, 18, ...)
            // instead of round numbers
            p.reference(String.format(Locale.ROOT, "unigram loss %.2f", unigram), List.of(0.5, (double) cell.steps()),
                    List.of(unigram, unigram), Color.BLACK);
        }
        return p;
    }

    static Plot updateSize(List<RunResult> rs, InitScheme init) {
        RunSpec cell = showcase(rs);
        if (cell == null) {
            return null;
        }
        Plot p = new Plot("Model update ‖F(θ_t) − F(θ_0)‖ on the probe batch, " + cellTitle(cell, init),
                "step t (log scale)", "RMS logit change (log scale)", true, true);
        for (ResidualLayout layout : layouts(rs)) {
            Map<Integer, List<Double>> bySteps = new TreeMap<>();
            rs.stream().filter(r -> r.spec().layout() == layout && sameCell(r.spec(), cell))
                    .flatMap(r -> r.early().stream())
                    .forEach(e -> bySteps.computeIfAbsent(e.step(), k -> new ArrayList<>()).add(e.updateSize()));
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            bySteps.forEach((t, v) -> {
                x.add((double) t);
                y.add(v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
            });
            p.series(layout.id(), x, y, COLORS.get(layout));
        }
        return p;
    }

    /** Depth × lr per layout, init and warmup: one coloured cell per grid cell with its seeds' verdicts. */
    static final class PassFailTable {
        private static final Color TRAINED = new Color(0x7BC67B), SLOW = new Color(0xF3D26B),
                STUCK = new Color(0xE8736C), DIVERGED = new Color(0x8E6BBF), MIXED = new Color(0xC9C9C9);
        private final List<String> rowLabels = new ArrayList<>();
        private final List<String> colLabels = new ArrayList<>();
        private final List<List<List<RunResult>>> cells = new ArrayList<>();
        private final int labelW = 250, cellW = 92, cellH = 26, top = 84, bottom = 46;

        PassFailTable(List<RunResult> results) {
            var byCell = Claims.cells(results);
            TreeSet<Integer> depths = new TreeSet<>();
            TreeSet<Double> lrs = new TreeSet<>();
            TreeSet<InitScheme> inits = new TreeSet<>();
            TreeSet<Boolean> warmups = new TreeSet<>();
            TreeSet<ResidualLayout> layouts = new TreeSet<>();
            byCell.keySet().forEach(c -> {
                depths.add(c.depth());
                lrs.add(c.lr());
                inits.add(c.init());
                warmups.add(c.warmup());
                layouts.add(c.layout());
            });
            for (int d : depths) {
                for (double lr : lrs) {
                    colLabels.add(String.format(Locale.ROOT, "L%d lr %.0e", d, lr));
                }
            }
            for (InitScheme init : List.of(InitScheme.XAVIER, InitScheme.GPT2)) {
                if (!inits.contains(init)) {
                    continue;
                }
                for (boolean w : warmups) {
                    for (ResidualLayout layout : layouts) {
                        rowLabels.add(init.id() + " · " + (w ? "warmup" : "no warmup") + " · " + layout.id());
                        List<List<RunResult>> row = new ArrayList<>();
                        for (int d : depths) {
                            for (double lr : lrs) {
                                row.add(byCell.getOrDefault(new Claims.Cell(layout, d, lr, w, init), List.of()));
                            }
                        }
                        cells.add(row);
                    }
                }
            }
        }

        int width() {
            return Math.max(660, labelW + cellW * colLabels.size() + 20);
        }

        int height() {
            return top + cellH * rowLabels.size() + bottom;
        }

        void draw(Graphics2D g) {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width(), height());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString("Verdict per cell: one letter per seed", 10, 24);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString("T trained, s slow, S stuck, D@step diverged; then the mean validation loss (nats)", 10, 44);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
            FontMetrics fm = g.getFontMetrics();
            for (int j = 0; j < colLabels.size(); j++) {
                String s = colLabels.get(j);
                g.drawString(s, labelW + j * cellW + (cellW - fm.stringWidth(s)) / 2, top - 10);
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            fm = g.getFontMetrics();
            for (int i = 0; i < rowLabels.size(); i++) {
                int y = top + i * cellH;
                g.setColor(Color.BLACK);
                g.drawString(rowLabels.get(i), 10, y + cellH / 2 + fm.getAscent() / 2 - 2);
                for (int j = 0; j < colLabels.size(); j++) {
                    List<RunResult> runs = cells.get(i).get(j);
                    int x = labelW + j * cellW;
                    g.setColor(runs.isEmpty() ? Color.WHITE : colour(runs));
                    g.fillRect(x, y, cellW, cellH);
                    g.setColor(Color.WHITE);
                    g.setStroke(new BasicStroke(2f));
                    g.drawRect(x, y, cellW, cellH);
                    if (!runs.isEmpty()) {
                        String text = StudyReport.cellText(runs);
                        g.setColor(Color.BLACK);
                        g.drawString(text, x + (cellW - fm.stringWidth(text)) / 2, y + cellH / 2 + fm.getAscent() / 2 - 2);
                    }
                }
                // a rule between init/warmup groups
                if (i > 0 && !group(rowLabels.get(i)).equals(group(rowLabels.get(i - 1)))) {
                    g.setColor(Color.BLACK);
                    g.setStroke(new BasicStroke(1.5f));
                    g.drawLine(8, y, labelW + cellW * colLabels.size(), y);
                }
            }
            int y = top + cellH * rowLabels.size() + 26;
            int x = 10;
            String[] names = {"trained (majority)", "slow", "stuck", "diverged", "mixed"};
            Color[] colours = {TRAINED, SLOW, STUCK, DIVERGED, MIXED};
            for (int k = 0; k < names.length; k++) {
                g.setColor(colours[k]);
                g.fillRect(x, y - 12, 18, 14);
                g.setColor(Color.BLACK);
                g.drawString(names[k], x + 24, y);
                x += 40 + fm.stringWidth(names[k]);
            }
        }

        private static String group(String label) {
            return label.substring(0, label.lastIndexOf(" · "));
        }

        private static Color colour(List<RunResult> runs) {
            long n = runs.size();
            long t = runs.stream().filter(r -> RunResult.TRAINED.equals(r.verdict())).count();
            long s = runs.stream().filter(r -> RunResult.SLOW.equals(r.verdict())).count();
            long st = runs.stream().filter(r -> RunResult.STUCK.equals(r.verdict())).count();
            long d = runs.stream().filter(r -> RunResult.DIVERGED.equals(r.verdict())).count();
            if (t * 2 > n) {
                return TRAINED;
            }
            if (d * 2 > n) {
                return DIVERGED;
            }
            if (st * 2 > n) {
                return STUCK;
            }
            return s * 2 > n ? SLOW : MIXED;
        }

        void write(Path base) throws IOException {
            BufferedImage img = new BufferedImage(width(), height(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            try {
                draw(g);
            } finally {
                g.dispose();
            }
            ImageIO.write(img, "png", base.resolveSibling(base.getFileName() + ".png").toFile());
            VectorGraphics2D vg = new VectorGraphics2D();
            draw(vg);
            try (OutputStream out = Files.newOutputStream(base.resolveSibling(base.getFileName() + ".svg"))) {
                Processors.get("svg").getDocument(vg.getCommands(), new PageSize(0, 0, width(), height())).writeTo(out);
            }
        }
    }
}
