package dev.jgpt.spark;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TreeSumTest {
    /** Values whose float sum depends on the order of additions. */
    private static float[] vector(int w) {
        Random r = new Random(w);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8) - 4));
        }
        return v;
    }

    /** The canonical tree: [lo, hi) = [lo, mid) + [mid, hi). */
    private static float[] tree(int lo, int hi) {
        if (hi - lo == 1) {
            return vector(lo);
        }
        int mid = (lo + hi) >>> 1;
        float[] a = tree(lo, mid), b = tree(mid, hi), s = new float[a.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    @Test
    void anyArrivalOrderGivesTheTreeSum() {
        for (int workers : new int[] {1, 2, 3, 5, 8, 13}) {
            float[] expected = tree(0, workers);
            Random shuffle = new Random(workers);
            for (int trial = 0; trial < 20; trial++) {
                List<Integer> order = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    order.add(w);
                }
                Collections.shuffle(order, shuffle);
                // Spark's shape: partial sums of some partitions, merged in whatever order they arrive.
                TreeSum a = TreeSum.empty(workers), b = TreeSum.empty(workers);
                for (int k = 0; k < workers; k++) {
                    int w = order.get(k);
                    (k % 2 == 0 ? a : b).add(TreeSum.leaf(workers, w, vector(w), new double[] {w}));
                }
                TreeSum total = trial % 2 == 0 ? a.merge(b) : b.merge(a);
                assertArrayEquals(expected, total.values(), workers + " workers, order " + order);
                assertEquals(workers * (workers - 1) / 2.0, total.stats()[0]);
            }
        }
    }

    @Test
    void aMissingOrRepeatedWorkerIsAnError() {
        TreeSum t = TreeSum.empty(3).add(TreeSum.leaf(3, 0, vector(0), new double[1]));
        assertThrows(IllegalStateException.class, t::values);
        assertThrows(IllegalStateException.class, () -> t.add(TreeSum.leaf(3, 0, vector(0), new double[1])));
    }
}
