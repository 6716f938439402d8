package dev.jgpt.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End-to-end gradient check of the whole model against centred finite differences, for every
 * residual layout and both init schemes.
 *
 * <p>Tolerance, argued from float32: the loss (≈ ln 7 ≈ 2) is computed with relative rounding error
 * of a few 1e-7, so its absolute noise is ≲ 1e-6; with h between 1e-3 and 3e-3 (see {@link #step})
 * that adds ≲ 1e-3 to a difference quotient, and the truncation error h²·f‴/6 is of the same order (an
 * embedding row feeding a norm with no position term beside it curves enough that h = 1e-2 is off by
 * 5%; 3e-3 by 0.5%). A check
 * passes when |analytic − numeric| ≤ 2e-3 + 3e-2·max(|analytic|, |numeric|), at h or, where the loss
 * curves more than that (a tied embedding entry of the highway Qwen2 model: 4% off at h = 3e-3, 0.03%
 * at 3e-4), at h/3; a wrong gradient (a missing term, a transposed matrix, a sign) is off by the size of
 * the gradient itself at every step, far above that. Each tensor is checked at its largest-gradient coordinates and at random ones.
 */
class GPTGradientTest {
    static final int B = 2, T = 5, V = 7;

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void gradientsMatchFiniteDifferencesGpt2Init(ResidualLayout layout) {
        check(layout, InitScheme.GPT2, 11);
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void gradientsMatchFiniteDifferencesXavierInit(ResidualLayout layout) {
        check(layout, InitScheme.XAVIER, 12);
    }

    /**
     * Llama's block and its relatives for every layout: RMSNorm, RoPE, SwiGLU, grouped-query heads with
     * a head_dim of their own, untied head; and Qwen2's q/k/v-only biases.
     */
    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void gradientsMatchFiniteDifferencesLlamaBlock(ResidualLayout layout) {
        GPTConfig llama = GPTConfig.llama(V, 8, 2, 4, 2, 8, 12).toBuilder().headDim(4).tiedEmbeddings(false)
                .layout(layout).init(InitScheme.XAVIER).build();
        check(new GPT(llama, 31), 31, false);
        check(new GPT(llama.toBuilder().qkvBias(true).family(Family.QWEN2).tiedEmbeddings(true).build(), 32), 32, false);
    }

    /** The switches mixed with GPT-2's block: LayerNorm with RoPE and SwiGLU, RMSNorm with learned positions. */
    @org.junit.jupiter.api.Test
    void gradientsMatchForMixedSwitches() {
        GPTConfig gpt2 = new GPTConfig(V, 8, 2, 2, 8, true, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER);
        check(new GPT(gpt2.toBuilder().position(Position.ROPE).mlp(FeedForwardKind.SWIGLU).intermediateSize(12).build(), 33),
                33, false);
        check(new GPT(gpt2.toBuilder().norm(Norm.RMSNORM).nKvHead(1).build(), 34), 34, false);
    }

    /** With dropout on, the same mask must be drawn for every evaluation: reseed before each. */
    @org.junit.jupiter.api.Test
    void gradientsMatchWithDropoutAndNoBias() {
        GPTConfig cfg = new GPTConfig(V, 8, 2, 2, 8, false, 0.25f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER);
        GPT model = new GPT(cfg, 21);
        model.setTraining(true);
        check(model, 21, true);
    }

    static void check(ResidualLayout layout, InitScheme init, long seed) {
        GPTConfig cfg = new GPTConfig(V, 8, 2, 2, 8, true, 0f, 1e-5f, layout, init);
        check(new GPT(cfg, seed), seed, false);
    }

    static void check(GPT model, long seed, boolean reseedDropout) {
        ResidualLayout layout = model.config.layout();
        InitScheme init = model.config.init();
        SplittableRandom rng = new SplittableRandom(seed);
        if (layout == ResidualLayout.REZERO) {
            // At a = 0 most gradients vanish (tested elsewhere); move away from init to check them all.
            for (Param p : model.parameters()) {
                if (p.name.endsWith("_alpha")) {
                    p.data[0] = 0.5f + (float) rng.nextDouble();
                }
            }
        }
        // Embeddings of std 0.02 feed the first layer norm, which divides by that std: curvature of
        // order 1/0.02² would swamp a float32 difference quotient. Std 0.2 checks the same code.
        for (Param p : model.embeddingParameters()) {
            dev.jgpt.kernel.Vec.scale(p.data, 10f, p.size());
        }
        // Non-trivial norm gains and biases so their gradients are exercised.
        for (Param p : model.parameters()) {
            if (p.shape.length == 1 && !p.name.endsWith("_alpha")) {
                for (int i = 0; i < p.size(); i++) {
                    p.data[i] += (float) (0.1 * rng.nextGaussian());
                }
            }
        }
        int[] tokens = IntStream.range(0, B * T).map(i -> rng.nextInt(V)).toArray();
        int[] targets = IntStream.range(0, B * T).map(i -> rng.nextInt(V)).toArray();
        targets[3] = -1; // an ignored position must contribute nothing

        Runnable reseed = () -> {
            if (reseedDropout) {
                model.seedDropout(99);
            }
        };
        model.zeroGrad();
        reseed.run();
        model.lossAndBackward(tokens, targets, B, T);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Param p : model.parameters()) {
            float[] g = p.grad().clone();
            List<Integer> idx = new ArrayList<>(IntStream.range(0, p.size()).boxed()
                    .sorted(Comparator.comparingDouble(i -> -Math.abs(g[i]))).limit(3).toList());
            for (int k = 0; k < 3; k++) {
                idx.add(rng.nextInt(p.size()));
            }
            float h = step(p);
            for (int i : idx) {
                double analytic = g[i];
                double numeric = numericGradient(model, p, i, tokens, targets, h, reseed);
                if (!agree(analytic, numeric)) {
                    // Truncation error shrinks 9× with a step 3× smaller; a wrong gradient stays wrong.
                    numeric = numericGradient(model, p, i, tokens, targets, h / 3, reseed);
                }
                if (!agree(analytic, numeric)) {
                    failures.add(String.format("%s[%d]: analytic %.6g numeric %.6g", p.name, i, analytic, numeric));
                }
                checked++;
            }
        }
        if (!failures.isEmpty()) {
            fail(layout + "/" + init + ": " + failures.size() + " of " + checked + " gradient checks failed:\n"
                    + String.join("\n", failures));
        }
        assertTrue(checked > 20);
    }

    static boolean agree(double analytic, double numeric) {
        return Math.abs(analytic - numeric) <= 2e-3 + 3e-2 * Math.max(Math.abs(analytic), Math.abs(numeric));
    }

    /**
     * The step scales with the tensor (a tenth of its RMS), between 1e-3 and 3e-3.
     */
    static float step(Param p) {
        double rms = Math.sqrt(dev.jgpt.kernel.Vec.sumSquares(p.data, p.size()) / p.size());
        return (float) Math.max(1e-3, Math.min(3e-3, 0.1 * rms));
    }

    static double numericGradient(GPT model, Param p, int i, int[] tokens, int[] targets, float h, Runnable reseed) {
        float saved = p.data[i];
        p.data[i] = saved + h;
        reseed.run();
        double plus = model.loss(tokens, targets, B, T);
        p.data[i] = saved - h;
        reseed.run();
        double minus = model.loss(tokens, targets, B, T);
        p.data[i] = saved;
        return (plus - minus) / ((double) (saved + h) - (double) (saved - h));
    }
}
