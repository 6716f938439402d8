package dev.jgpt.study;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Each statistic against values worked out by hand. */
class StatsTest {
    @Test
    void meanAndElementwiseMean() {
        assertEquals(2.5, Stats.mean(List.of(1.0, 2.0, 3.0, 4.0)));
        assertEquals(Double.NaN, Stats.mean(List.of()));
        assertArrayEquals(new double[] {2, 4, -1}, Stats.elementwiseMean(List.of(new double[] {1, 2, 0}, new double[] {3, 6, -2})));
        assertNull(Stats.elementwiseMean(List.of()));
    }

    @Test
    void linearFitOfAnExactLineAndOfAScatter() {
        Stats.Fit line = Stats.linearFit(new double[] {1, 3, 5, 7});
        assertEquals(2.0, line.slope(), 1e-15);
        assertEquals(1.0, line.r2(), 1e-15);
        // x = 0, 1, 2; y = 1, 2, 2: mean y 5/3, Sxy = 1, Sxx = 2, Syy = 2/3 → slope 1/2, R² = 1 / (2 · 2/3) = 3/4
        Stats.Fit scatter = Stats.linearFit(new double[] {1, 2, 2});
        assertEquals(0.5, scatter.slope(), 1e-15);
        assertEquals(0.75, scatter.r2(), 1e-15);
        // y = 0, 1, 0: Sxy = 0 → slope 0 and R² 0
        assertEquals(new Stats.Fit(0, 0), Stats.linearFit(new double[] {0, 1, 0}));
        assertEquals(new Stats.Fit(0, 1), Stats.linearFit(new double[] {3, 3}), "a constant is fitted exactly");
    }

    @Test
    void logLogSlopeIsThePowerLawsExponentOverPositivePoints() {
        assertEquals(-0.5, Stats.logLogSlope(Map.of(1, 3.0, 4, 1.5, 16, 0.75)), 1e-12, "y = 3/√x");
        // in units of ln 2: x = 0, 1, 2 and y = 0, 1, 3 → slope (3·7 − 3·4) / (3·5 − 3²) = 3/2
        assertEquals(1.5, Stats.logLogSlope(Map.of(1, 1.0, 2, 2.0, 4, 8.0)), 1e-12);
        assertEquals(2.0, Stats.logLogSlope(Map.of(1, 1.0, 2, 4.0, 3, 0.0, 5, -1.0)), 1e-12, "y ≤ 0 is left out");
    }

    @Test
    void lastOverFirstDividesByTheSmallestKeysValue() {
        assertEquals(0.25, Stats.lastOverFirst(new TreeMap<>(Map.of(8, 1.0, 2, 4.0, 4, 100.0))));
    }
}
