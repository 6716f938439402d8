package dev.jgpt.train;

import dev.jgpt.common.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The loss curve: train and val loss against step, as a PNG (XChart, headless). */
public final class LossPlot {
    public static final String FILE_NAME = "loss.png";

    private LossPlot() {
    }

    public static void write(List<MetricsLog.Point> points, String title, Path png) throws IOException {
        if (points.isEmpty()) {
            throw new IllegalArgumentException("loss plot: no evaluations to plot");
        }
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title)
                .xAxisTitle("step").yAxisTitle("loss (nats/token)").build();
        chart.getStyler().setMarkerSize(5);
        addSeries(chart, "train", points, true);
        addSeries(chart, "val", points, false);
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(png, out -> out.write(bytes));
    }

    private static void addSeries(XYChart chart, String name, List<MetricsLog.Point> points, boolean train) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (MetricsLog.Point p : points) {
            double loss = train ? p.trainLoss() : p.valLoss();
            if (Double.isFinite(loss)) {
                x.add((double) p.step());
                y.add(loss);
            }
        }
        if (!x.isEmpty()) {
            XYSeries s = chart.addSeries(name, x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
    }
}
