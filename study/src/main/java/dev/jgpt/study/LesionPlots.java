package dev.jgpt.study;

import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;

/** The lesion charts, for one model ({@code jgpt lesion}) or per layout over seeds (the study). */
final class LesionPlots {
    /** One line of a chart: the lesion measurements of one model or of several seeds of one setting (averaged). */
    record Curve(String name, Color color, boolean dashed, List<Lesions.Result> results) {
        int depth() {
            return results.get(0).depth();
        }
    }

    private LesionPlots() {
    }

    /** Damage of each single-block deletion, as a fraction of the way to the unigram loss, with the 1/L line. */
    static Chart singleDeletions(String title, List<Curve> curves) {
        Chart chart = new Chart(title, "deleted block (1 = first)", "loss increase / (unigram loss − trained loss)",
                false, false);
        int depth = 0;
        for (Curve c : curves) {
            int L = c.depth();
            depth = Math.max(depth, L);
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (int l = 0; l < L; l++) {
                int block = l;
                x.add(l + 1.0);
                y.add(Stats.mean(c.results().stream().map(r -> r.relative(r.single()[block])).toList()));
            }
            style(chart.series(c.name(), x, y, c.color()), c);
        }
        if (depth > 0) {
            double share = LesionClaims.graceful(depth);
            chart.reference("1/L = " + Chart.number(share) + ": a block's share of the depth", List.of(0.5, depth + 0.5),
                    List.of(share, share), Color.BLACK);
        }
        return chart;
    }

    /** Mean loss against the number of deleted blocks k, ± the standard deviation over subsets (and seeds). */
    static Chart lossVsK(String title, List<Curve> curves) {
        Chart chart = new Chart(title, "k = blocks deleted at random", "validation loss (nats), mean ± sd over subsets",
                false, false);
        double reference = Double.NaN;
        int depth = 0;
        for (Curve c : curves) {
            int L = c.depth();
            depth = Math.max(depth, L);
            List<Double> x = new ArrayList<>(), y = new ArrayList<>(), err = new ArrayList<>();
            for (int k = 0; k <= L; k++) {
                int kk = k;
                double[] all = c.results().stream().flatMapToDouble(r -> java.util.Arrays.stream(r.byK().get(kk).losses()))
                        .toArray();
                x.add((double) k);
                y.add(Stats.mean(c.results().stream().map(r -> r.byK().get(kk).mean()).toList()));
                err.add(Stats.sd(all));
            }
            style(chart.series(c.name(), x, y, err, c.color()), c);
            reference = c.results().get(0).reference();
        }
        if (Double.isFinite(reference)) {
            chart.reference("unigram loss " + Chart.number(reference), List.of(-0.2, depth + 0.2),
                    List.of(reference, reference), Color.BLACK);
        }
        return chart;
    }

    /** Damage of the mean loss at each k as a fraction of the way to the unigram loss (LayerDrop vs not). */
    static Chart damageVsK(String title, List<Curve> curves) {
        Chart chart = new Chart(title, "k = blocks deleted at random", "loss increase / (unigram loss − trained loss)",
                false, false);
        for (Curve c : curves) {
            double[] rel = Stats.elementwiseMean(c.results().stream().map(Lesions.Result::meanRelativeByK).toList());
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (int k = 0; k < rel.length; k++) {
                x.add((double) k);
                y.add(rel[k]);
            }
            style(chart.series(c.name(), x, y, c.color()), c);
        }
        return chart;
    }

    private static void style(XYSeries s, Curve c) {
        if (s != null && c.dashed()) {
            s.setLineStyle(SeriesLines.DASH_DASH);
        }
    }
}
