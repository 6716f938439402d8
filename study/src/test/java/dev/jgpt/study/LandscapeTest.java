package dev.jgpt.study;

import dev.jgpt.model.Param;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Li et al.'s surfaces on a quadratic toy loss, whose curvature along any direction is known: dᵀAd. */
class LandscapeTest {
    static final double[][] A = HessianTest.withEigenvalues(new double[] {4, 1, 0.5, 2, 3, 0.25}, 21);
    static final float[] CENTRE = {0.5f, -1, 0.25f, 2, -0.5f, 1};

    @Test
    void directionsAreFilterNormalisedAndSkipOneDimensionalParameters() {
        Param w = new Param("w", false, 3, 4), b = new Param("b", false, 4);
        for (int i = 0; i < w.size(); i++) {
            w.data[i] = (i % 5) - 2 + 0.5f * i;
        }
        Landscape.Direction d = Landscape.randomDirection(List.of(w, b), 7);
        for (int r = 0; r < 3; r++) {
            double dn = 0, wn = 0;
            for (int i = r * 4; i < r * 4 + 4; i++) {
                dn += d.parts()[0][i] * d.parts()[0][i];
                wn += w.data[i] * w.data[i];
            }
            assertEquals(Math.sqrt(wn), Math.sqrt(dn), 1e-5 * Math.sqrt(wn), "filter " + r);
        }
        assertArrayEquals(new float[4], d.parts()[1], "biases and gains are not moved");
        assertArrayEquals(d.parts()[0], Landscape.randomDirection(List.of(w, b), 7).parts()[0], "deterministic for a seed");
    }

    @Test
    void lineRecoversTheCurvatureAlongItsDirection() {
        HessianTest.Quadratic q = new HessianTest.Quadratic(A, CENTRE, 2, 3);
        Landscape.Direction d = Landscape.randomDirection(q.parameters(), 3);
        float[] before = q.parameters().get(0).data.clone();
        int[] calls = {0};
        Landscape.Line line = Landscape.line(q, d, 1.0, 21, i -> calls[0] = i);
        assertEquals(21, calls[0]);
        assertArrayEquals(before, q.parameters().get(0).data, "weights restored");
        double dAd = quadraticForm(d, d);
        assertEquals(dAd, line.curvature(), 1e-4 * dAd);
        for (int i = 0; i < 21; i++) {   // the whole curve is ½α²·dᵀAd
            double a = line.alphas()[i];
            assertEquals(0.5 * a * a * dAd, line.losses()[i], 1e-4 * dAd);
        }
    }

    @Test
    void planeRecoversTheTwoByTwoCurvatureAndItsConvexity() {
        HessianTest.Quadratic q = new HessianTest.Quadratic(A, CENTRE, 2, 3);
        Landscape.Direction d1 = Landscape.randomDirection(q.parameters(), 4), d2 = Landscape.randomDirection(q.parameters(), 5);
        Landscape.Plane p = Landscape.plane(q, d1, d2, 0.5, 11, i -> { });
        double[][] expected = {{quadraticForm(d1, d1), quadraticForm(d1, d2)}, {quadraticForm(d2, d1), quadraticForm(d2, d2)}};
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(expected[i], p.hessian()[i], 1e-3 * expected[0][0]);
        }
        assertEquals(0, p.nonConvexity(), "a positive-definite quadratic is convex everywhere");

        // A saddle: negative curvature along some directions shows on the plane.
        HessianTest.Quadratic saddle = new HessianTest.Quadratic(
                HessianTest.withEigenvalues(new double[] {4, -3, 0.5, -2, 3, 0.25}, 22), CENTRE, 2, 3);
        Landscape.Plane s = Landscape.plane(saddle, Landscape.randomDirection(saddle.parameters(), 4),
                Landscape.randomDirection(saddle.parameters(), 6), 0.5, 11, i -> { });
        assertTrue(s.nonConvexity() > 0.05, "saddle non-convexity " + s.nonConvexity());
        assertThrows(IllegalArgumentException.class, () -> Landscape.line(q, d1, 1.0, 10, i -> { }));
    }

    @Test
    void isoLinesOfAParaboloidAreCircles() {
        double[] g = Landscape.grid(1.0, 41);
        double[][] f = new double[41][41];
        for (int i = 0; i < 41; i++) {
            for (int j = 0; j < 41; j++) {
                f[i][j] = g[i] * g[i] + g[j] * g[j];
            }
        }
        java.util.List<double[]> segments = LandscapePlots.isoLines(g, g, f, 0.25);
        assertTrue(segments.size() > 40, segments.size() + " segments");
        double length = 0;
        for (double[] s : segments) {
            for (int k = 0; k < 4; k += 2) {   // every end point on the circle of radius 0.5, up to the grid's linear interpolation
                assertEquals(0.5, Math.hypot(s[k], s[k + 1]), 2e-3);
            }
            length += Math.hypot(s[2] - s[0], s[3] - s[1]);
        }
        assertEquals(Math.PI, length, 0.01, "the segments trace the circle once");
        assertTrue(LandscapePlots.isoLines(g, g, f, 3.0).isEmpty(), "a level above the surface has no line");
    }

    private static double quadraticForm(Landscape.Direction a, Landscape.Direction b) {
        float[] x = a.parts()[0], y = b.parts()[0];
        double s = 0;
        for (int i = 0; i < A.length; i++) {
            for (int j = 0; j < A.length; j++) {
                s += x[i] * A[i][j] * y[j];
            }
        }
        return s;
    }
}
