package dev.jgpt.train;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.Param;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingMemoryTest {
    /**
     * The kernels' per-thread scratch (packing buffers, attention rows) and worker threads come with their first use
     * at a shape, in whichever thread claims a piece of a product first: not part of what a configuration needs. A
     * throwaway model of the same shape, run a few times, grows them before the heap is measured.
     */
    private static void growKernelScratch(GPTConfig cfg, int[] x, int B, int T) {
        GPT throwaway = new GPT(cfg, 1);
        throwaway.setTraining(true);
        for (int i = 0; i < 3; i++) {
            throwaway.lossAndBackward(x, x, B, T);
        }
    }

    /** Heap in use after a full collection: what is reachable. */
    private static long liveHeap() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /**
     * The estimate against what training really keeps on the heap: the weights, gradients and AdamW moments
     * of a model, and the activation buffers its forward and backward create (kept and reused from step to
     * step), measured as live heap after a full collection. Shapes where the MLP, the attention weights or
     * the logits dominate, with dropout off and on.
     */
    @Test
    void theEstimateMatchesWhatTrainingKeepsOnTheHeap() {
        int[][] shapes = {{2, 4, 64, 64, 8}, {1, 2, 64, 128, 8}, {3, 4, 96, 16, 16}}; // layers, heads, width, T, B
        for (int[] s : shapes) {
            for (float dropout : new float[] {0f, 0.1f}) {
                GPTConfig cfg = GPTConfig.of(65, s[3], s[0], s[1], s[2]).withDropout(dropout);
                int T = s[3], B = s[4];
                int[] x = new SplittableRandom(1).ints(B * T, 0, 65).toArray();
                growKernelScratch(cfg, x, B, T);
                long estimate = TrainingMemory.of(cfg, B, T, dropout).total();
                // The heap difference is noisy both ways: now and then something else is first allocated between a
                // measurement's two readings and stays (ratios 0.35 and 0.53 in 2 of 10 runs of this module's tests),
                // and once something still held at the first reading was freed by the second (a CI run: 4.4 MB against
                // 17.0 MB, ratio 3.8). So up to three measurements, one of which must agree; a wrong estimate fails all.
                List<Long> measured = new ArrayList<>();
                boolean agrees = false;
                for (int attempt = 0; attempt < 3 && !agrees; attempt++) {
                    long m = liveHeapOfTraining(cfg, x, B, T);
                    measured.add(m);
                    double r = estimate / (double) m;
                    agrees = r > 0.9 && r < 1.2;
                }
                assertTrue(agrees, "estimate " + estimate + " vs live " + measured + " bytes (ratio 0.9-1.2 expected) for L"
                        + s[0] + " H" + s[1] + " d" + s[2] + " T" + T + " B" + B + " dropout " + dropout
                        + ": the layers' buffers changed, update TrainingMemory");
            }
        }
    }

    /**
     * The heap a model, its AdamW moments and two training steps keep live. In a frame of its own: a model held in
     * the caller's loop variables may stay reachable (an interpreted frame's slot) into the next measurement's
     * baseline, which a full verify once measured as 5.3 MB live against 13.3 MB estimated.
     */
    private static long liveHeapOfTraining(GPTConfig cfg, int[] x, int B, int T) {
        long before = liveHeap();
        GPT model = new GPT(cfg, 1);
        List<float[]> moments = new ArrayList<>();
        for (Param p : model.parameters()) {
            moments.add(new float[p.size()]);
            moments.add(new float[p.size()]);
        }
        model.setTraining(true);
        model.lossAndBackward(x, x, B, T);
        model.lossAndBackward(x, x, B, T);
        long measured = liveHeap() - before;
        assertEquals(2 * model.parameters().size(), moments.size());
        java.lang.ref.Reference.reachabilityFence(model);
        return measured;
    }

    @Test
    void aConfigurationLargerThanTheHeapIsRefusedWithBothFigures() {
        GPTConfig huge = GPTConfig.of(65, 64, 4, 4, 16384);
        TrainingMemory need = TrainingMemory.of(huge, 12, 64, 0);
        assertTrue(need.total() > Runtime.getRuntime().maxMemory(), "bigger than any test heap");
        var e = assertThrows(IllegalArgumentException.class, need::checkFits);
        assertTrue(e.getMessage().matches("this configuration needs about [0-9.]+ GB of Java heap \\(parameters [0-9.]+ GB, "
                + "gradients [0-9.]+ GB, AdamW moments [0-9.]+ GB, activations .* for a batch of 12 × 64 tokens\\) but "
                + "[0-9.]+ .B of the [0-9.]+ .B heap is free: .*"), e.getMessage());
        TrainingMemory.of(TinyRuns.config().modelConfig(65), 4, 16, 0.1).checkFits();
    }
}
