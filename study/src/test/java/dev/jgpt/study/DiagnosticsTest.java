package dev.jgpt.study;

import dev.jgpt.model.GPT;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiagnosticsTest {
    static final int B = 2, T = 16;

    static GPT model(ResidualLayout layout) {
        return new GPT(StudyTesting.spec(layout, 3, InitScheme.XAVIER, 5, 0).modelConfig(StudyTesting.corpus().vocabSize), 5);
    }

    static int[][] batch() {
        int[] x = new int[B * T], y = new int[B * T];
        StudyCorpus.sample(StudyTesting.corpus().train, B, T, new SplittableRandom(1), x, y);
        return new int[][] {x, y};
    }

    @Test
    void gradientGroupsPartitionTheGlobalNorm() {
        for (ResidualLayout layout : ResidualLayout.values()) {
            GPT m = model(layout);
            int[][] b = batch();
            m.zeroGrad();
            m.lossAndBackward(b[0], b[1], B, T);
            Diagnostics.LayerGradients g = Diagnostics.gradients(m);
            double sum = g.embedding() * g.embedding() + g.finalNorm() * g.finalNorm() + g.crossBlock() * g.crossBlock(),
                    direct = 0;
            for (int l = 0; l < 3; l++) {
                assertEquals(g.block()[l] * g.block()[l], g.attention()[l] * g.attention()[l] + g.ffn()[l] * g.ffn()[l],
                        1e-9 * g.total() * g.total(), layout + " block " + l);
                sum += g.block()[l] * g.block()[l];
            }
            for (Param p : m.parameters()) {
                for (float v : p.grad()) {
                    direct += (double) v * v;
                }
            }
            assertEquals(Math.sqrt(direct), g.total(), 1e-6 * g.total(), layout.id());
            assertEquals(layout.crossesBlocks(), g.crossBlock() > 0, layout.id() + " wiring gradient");
            assertEquals(g.total() * g.total(), sum, 1e-6 * g.total() * g.total(), layout.id());
            double w2 = 0;
            for (float v : m.param("transformer.h.2.mlp.c_proj.weight").grad()) {
                w2 += (double) v * v;
            }
            assertEquals(Math.sqrt(w2), g.lastLayerFfn(), 1e-9 + 1e-6 * Math.sqrt(w2), layout.id());
        }
    }

    @Test
    void residualMeanSquareReadsTheEmbeddingAndBlockOutputs() {
        GPT m = model(ResidualLayout.PRE_LN);
        int[][] b = batch();
        m.loss(b[0], b[1], B, T);
        double[] ms = Diagnostics.residualMeanSquare(m, b[0], B, T);
        assertEquals(4, ms.length);
        float[] wte = m.param("transformer.wte.weight").data, wpe = m.param("transformer.wpe.weight").data;
        int C = 64;
        double s = 0;
        for (int r = 0; r < B * T; r++) {
            for (int c = 0; c < C; c++) {
                double v = wte[b[0][r] * C + c] + wpe[(r % T) * C + c];
                s += v * v;
            }
        }
        assertEquals(s / (B * T * C), ms[0], 1e-6 * ms[0]);
        double last = 0;
        for (float v : m.residualStream(3)) {
            last += (double) v * v;
        }
        assertEquals(last / (B * T * C), ms[3], 1e-6 * ms[3]);
        double[] rho = Diagnostics.lemma2Normalised(ms);
        assertEquals(1.0, rho[0]);
        assertEquals(1 + ms[3] - ms[0], rho[3], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Diagnostics.residualMeanSquare(m, new int[3], B, T));
    }

    @Test
    void perturbationRestoresTheWeightsAndTheProbeMeasuresUpdates() {
        GPT m = model(ResidualLayout.POST_LN);
        int[][] b = batch();
        float[] before = m.logits(b[0], B, T).clone();
        double d = Diagnostics.perturbationSensitivity(m, b[0], B, T, 1e-3, 9);
        assertTrue(d > 1e-4 && d < 1, "±1e-3 on every weight moves the logits a little: " + d);
        assertArrayEquals(before, m.logits(b[0], B, T).clone(), "weights restored exactly");
        assertEquals(d, Diagnostics.perturbationSensitivity(m, b[0], B, T, 1e-3, 9), "seeded");

        Diagnostics.UpdateProbe probe = new Diagnostics.UpdateProbe(m, b[0], B, T);
        assertEquals(0.0, probe.distance(m));
        Param w = m.param("transformer.h.0.mlp.c_fc.weight");
        w.data[0] += 0.5f;
        assertNotEquals(0.0, probe.distance(m));
    }

    @Test
    void snapshotSummarisesAStep() {
        GPT m = model(ResidualLayout.SANDWICH);
        int[][] b = batch();
        m.zeroGrad();
        float loss = m.lossAndBackward(b[0], b[1], B, T);
        Diagnostics.Snapshot s = Diagnostics.snapshot(m, 7, loss, b[0], B, T);
        assertEquals(3, s.gradients().block().length);
        assertEquals(4, s.residualMeanSquare().length);
        assertEquals(3, s.steps().relativeUpdate().length);
        assertTrue(s.summary().startsWith("step 7 loss "), s.summary());
    }

    /** The ODE view: ReZero at init takes no step at all; pre-LN's steps match a direct computation per position. */
    @Test
    void blockStepsAreRelativeUpdatesAndTheirCosines() {
        int[][] b = batch();
        GPT rezero = model(ResidualLayout.REZERO);
        rezero.loss(b[0], b[1], B, T);
        Diagnostics.BlockSteps still = Diagnostics.blockSteps(rezero, B * T);
        assertArrayEquals(new double[3], still.relativeUpdate());
        assertArrayEquals(new double[2], still.cosine(), "no update has no direction");

        GPT m = model(ResidualLayout.PRE_LN);
        m.loss(b[0], b[1], B, T);
        Diagnostics.BlockSteps s = Diagnostics.blockSteps(m, B * T);
        int C = m.config.nEmbd(), rows = B * T;
        for (int l = 0; l < 3; l++) {
            double rel = 0, cos = 0;
            for (int r = 0; r < rows; r++) {
                double xx = 0, uu = 0, vv = 0, uv = 0;
                for (int i = r * C; i < (r + 1) * C; i++) {
                    double x = m.residualStream(l)[i], u = m.residualStream(l + 1)[i] - x;
                    double v = l < 2 ? m.residualStream(l + 2)[i] - m.residualStream(l + 1)[i] : 0;
                    xx += x * x;
                    uu += u * u;
                    vv += v * v;
                    uv += u * v;
                }
                rel += Math.sqrt(uu / xx) / rows;
                cos += l < 2 ? uv / Math.sqrt(uu * vv) / rows : 0;
            }
            assertEquals(rel, s.relativeUpdate()[l], 1e-6 * rel, "relative update " + l);
            assertTrue(rel > 0.01, "a random pre-LN block moves the stream: " + rel);
            if (l < 2) {
                assertEquals(cos, s.cosine()[l], 1e-6, "cosine " + l);
            }
        }
    }

    @Test
    void earlyDiagnosticStepsAreLogSpaced() {
        StringBuilder sb = new StringBuilder();
        for (int t = 1; t <= 250; t++) {
            if (StabilityRun.recordStep(t, 250)) {
                sb.append(t).append(' ');
            }
        }
        assertEquals("1 2 3 5 10 20 50 100 200 250 ", sb.toString());
    }
}
