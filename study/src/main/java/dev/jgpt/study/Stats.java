package dev.jgpt.study;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/** The few statistics the study's claims, report and plots need: means, spreads, medians, least-squares slopes and R². */
final class Stats {
    /** Slope of a least-squares line and its coefficient of determination R². */
    record Fit(double slope, double r2) {
    }

    private Stats() {
    }

    /** Arithmetic mean; NaN for no values. */
    static double mean(Collection<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Arithmetic mean; NaN for no values. */
    static double mean(double[] values) {
        return java.util.Arrays.stream(values).average().orElse(Double.NaN);
    }

    /** Sample standard deviation (n − 1); 0 for one value, NaN for none. */
    static double sd(double[] values) {
        if (values.length < 2) {
            return values.length == 1 ? 0 : Double.NaN;
        }
        double m = mean(values), ss = 0;
        for (double v : values) {
            ss += (v - m) * (v - m);
        }
        return Math.sqrt(ss / (values.length - 1));
    }

    /** The median; NaN for no values. */
    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] s = values.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Element-wise mean of equally long vectors; null for none. */
    static double[] elementwiseMean(Collection<double[]> vectors) {
        if (vectors.isEmpty()) {
            return null;
        }
        double[] mean = new double[vectors.iterator().next().length];
        for (double[] v : vectors) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += v[i] / vectors.size();
            }
        }
        return mean;
    }

    /** Least-squares line through (l, y_l) for l = 0, 1, ...; R² is 1 for a constant y. */
    static Fit linearFit(double[] y) {
        int n = y.length;
        double mx = (n - 1) / 2.0, my = 0;
        for (double v : y) {
            my += v / n;
        }
        double sxy = 0, sxx = 0, syy = 0;
        for (int l = 0; l < n; l++) {
            sxy += (l - mx) * (y[l] - my);
            sxx += (l - mx) * (l - mx);
            syy += (y[l] - my) * (y[l] - my);
        }
        return new Fit(sxy / sxx, syy == 0 ? 1 : sxy * sxy / (sxx * syy));
    }

    /** Least-squares slope of ln y against ln x, over the points with y > 0: the exponent of a power law. */
    static double logLogSlope(Map<Integer, Double> points) {
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (var e : points.entrySet()) {
            if (e.getValue() > 0) {
                double x = Math.log(e.getKey()), y = Math.log(e.getValue());
                n++;
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
            }
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    /** The value at the largest key divided by the value at the smallest. */
    static double lastOverFirst(TreeMap<Integer, Double> series) {
        return series.lastEntry().getValue() / series.firstEntry().getValue();
    }
}
