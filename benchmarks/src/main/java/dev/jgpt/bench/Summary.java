package dev.jgpt.bench;

import java.util.Arrays;

/** Median, smallest and largest of a benchmark's measurements (never empty). */
public final class Summary {
    private Summary() {}

    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    public static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    public static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }
}
