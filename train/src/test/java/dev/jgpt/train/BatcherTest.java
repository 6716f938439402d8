package dev.jgpt.train;

import dev.jgpt.common.TokenSequence;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatcherTest {
    /** Token i has id i: a window's ids reveal where it starts. */
    private static int[] ramp(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private final Batcher batcher = new Batcher(TokenSequence.of(ramp(1000)), TokenSequence.of(ramp(100)), 4, 8, 42);

    @Test
    void targetsAreInputsShiftedByOne() {
        int[] x = new int[32], y = new int[32];
        batcher.trainBatch(3, 0, x, y);
        for (int b = 0; b < 4; b++) {
            for (int t = 0; t < 8; t++) {
                int i = b * 8 + t;
                assertEquals(x[i] + 1, y[i], "row " + b + " col " + t);
                if (t > 0) {
                    assertEquals(x[i - 1] + 1, x[i], "windows are consecutive tokens");
                }
            }
            assertTrue(x[b * 8] >= 0 && y[b * 8 + 7] < 1000, "window inside the data");
        }
    }

    @Test
    void deterministicPerStepAndDifferentAcrossSteps() {
        int[] x1 = new int[32], y1 = new int[32], x2 = new int[32], y2 = new int[32];
        batcher.trainBatch(7, 1, x1, y1);
        new Batcher(TokenSequence.of(ramp(1000)), TokenSequence.of(ramp(100)), 4, 8, 42).trainBatch(7, 1, x2, y2);
        assertArrayEquals(x1, x2, "same (seed, step, micro) → same batch, in a new batcher too");
        batcher.trainBatch(8, 1, x2, y2);
        assertFalse(java.util.Arrays.equals(x1, x2), "another step draws another batch");
        batcher.trainBatch(7, 0, x2, y2);
        assertFalse(java.util.Arrays.equals(x1, x2), "another micro-step draws another batch");
    }

    @Test
    void evalBatchesComeFromTheirSplitAndRepeat() {
        int[] x = new int[32], y = new int[32], x2 = new int[32], y2 = new int[32];
        batcher.evalBatch(Batcher.Split.VAL, 2, x, y);
        for (int v : y) {
            assertTrue(v < 100, "val windows come from the 100 val tokens");
        }
        batcher.evalBatch(Batcher.Split.VAL, 2, x2, y2);
        assertArrayEquals(x, x2);
    }

    @Test
    void everyStartIsReachable() {
        // Data of T+2 tokens has two possible windows; both must appear.
        Batcher small = new Batcher(TokenSequence.of(ramp(10)), TokenSequence.of(ramp(10)), 16, 8, 1);
        int[] x = new int[128], y = new int[128];
        boolean[] seen = new boolean[2];
        for (int s = 0; s < 10; s++) {
            small.trainBatch(s, 0, x, y);
            for (int b = 0; b < 16; b++) {
                seen[x[b * 8]] = true;
            }
        }
        assertTrue(seen[0] && seen[1]);
    }

    @Test
    void tooShortDataIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Batcher(TokenSequence.of(ramp(100)), TokenSequence.of(ramp(8)), 4, 8, 1));
        assertTrue(e.getMessage().contains("val split has 8 tokens"), e.getMessage());
    }
}
