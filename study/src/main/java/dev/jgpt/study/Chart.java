package dev.jgpt.study;

import de.erichseifert.vectorgraphics2d.Processors;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import dev.jgpt.common.AtomicFiles;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The study's line charts (XChart) in one style, and PNG + SVG export of any figure. A log axis is drawn
 * as a linear axis over log2 (x) or log10 (y) of the data with the tick labels mapped back: XChart's own
 * log axes label only powers of ten, which leaves depths 2..32 bare.
 */
final class Chart {
    private static final int WIDTH = 900, HEIGHT = 560;

    private final XYChart chart;
    private final boolean logX, logY;

    Chart(String title, String x, String y, boolean logX, boolean logY) {
        this.logX = logX;
        this.logY = logY;
        chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
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
        BigDecimal b = new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros();
        return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? b.toPlainString() : b.toString();
    }

    /** Adds x/y points with markers, dropping non-finite ones and, on a log axis, non-positive ones; null if none is left. */
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

    /** Points with error bars ±err (linear axes only); non-finite points are dropped; null if none is left. */
    XYSeries series(String name, List<Double> x, List<Double> y, List<Double> err, Color color) {
        if (logX || logY) {
            throw new IllegalStateException("error bars are drawn on linear axes only");
        }
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>(), es = new ArrayList<>();
        for (int i = 0; i < x.size(); i++) {
            if (Double.isFinite(x.get(i)) && Double.isFinite(y.get(i))) {
                xs.add(x.get(i));
                ys.add(y.get(i));
                es.add(Double.isFinite(err.get(i)) ? err.get(i) : 0.0);
            }
        }
        if (xs.isEmpty()) {
            return null;
        }
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        XYSeries s = chart.addSeries(name, xs, ys, es);
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

    XYStyler styler() {
        return chart.getStyler();
    }

    boolean isEmpty() {
        return chart.getSeriesMap().isEmpty();
    }

    /** Writes dir/name.png and dir/name.svg. */
    void write(Path dir, String name) throws IOException {
        writeFigure(dir, name, chart.getWidth(), chart.getHeight(), g -> chart.paint(g, chart.getWidth(), chart.getHeight()));
    }

    /**
     * Writes dir/name.png and dir/name.svg, each atomically, from one painting routine: what XChart's
     * BitmapEncoder and VectorGraphicsEncoder do for a chart, for any drawing.
     */
    static void writeFigure(Path dir, String name, int width, int height, Consumer<Graphics2D> paint) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            paint.accept(g);
        } finally {
            g.dispose();
        }
        AtomicFiles.write(dir.resolve(name + ".png"), out -> ImageIO.write(image, "png", out));
        VectorGraphics2D vector = new VectorGraphics2D();
        paint.accept(vector);
        AtomicFiles.write(dir.resolve(name + ".svg"),
                out -> Processors.get("svg").getDocument(vector.getCommands(), new PageSize(0, 0, width, height)).writeTo(out));
    }
}
