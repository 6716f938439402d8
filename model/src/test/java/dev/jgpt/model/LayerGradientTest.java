package dev.jgpt.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each {@link Layer}'s backward against centred finite differences of its own forward, for the input
 * and every parameter it lists: the check a new layer brings with it. The scalar is f = Σ G ⊙ layer(x)
 * for a fixed random G, so backward(G) must give ∂f/∂x and ∂f/∂θ. Float32 forward passes: with f of
 * order 10 and relative rounding of a few 1e-7, h = 1e-2 gives a difference quotient good to ~1e-3;
 * a wrong term is off by the size of the gradient itself.
 */
class LayerGradientTest {
    static final int B = 2, T = 3, C = 8;
    static final GPTConfig CFG = new GPTConfig(11, 8, 2, 2, C, true, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER);

    /** Llama's block at a small size: RMSNorm, RoPE, SwiGLU, 4 query heads sharing 2 kv heads of 4. */
    static final GPTConfig LLAMA = GPTConfig.llama(11, 8, 2, 4, 2, C, 12).toBuilder().headDim(4).build();
    static final Names GPT2_NAMES = new Names(Family.GPT2), LLAMA_NAMES = new Names(Family.LLAMA);

    @Test
    void linear() {
        check(GPT2_NAMES.linear("lin", C, 5, true), C, 5);
    }

    @Test
    void layerNorm() {
        check(new LayerNormLayer("ln", C, true, 1e-5f), C, C);
    }

    @Test
    void rmsNorm() {
        check(new RmsNormLayer("rms", C, 1e-5f), C, C);
    }

    @Test
    void mlp() {
        check(new Mlp("mlp", CFG, GPT2_NAMES, new RunContext(0f, 1)), C, C);
    }

    @Test
    void swiGluMlp() {
        check(new SwiGluMlp("mlp", LLAMA, LLAMA_NAMES, new RunContext(0f, 1)), C, C);
    }

    @Test
    void attention() {
        check(new CausalSelfAttention("attn", 0, CFG, GPT2_NAMES, null, new RunContext(0f, 1)), C, C);
    }

    /** Grouped-query heads (head_dim 4 · 4 heads ≠ C/… by design), rotary positions, q/k/v biases (Qwen2). */
    @Test
    void groupedQueryAttentionWithRope() {
        GPTConfig qwen = LLAMA.toBuilder().qkvBias(true).family(Family.QWEN2).build();
        check(new CausalSelfAttention("attn", 0, qwen, LLAMA_NAMES, new RotaryTable(qwen), new RunContext(0f, 1)), C, C);
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void residualSublayer(ResidualLayout layout) {
        GPTConfig cfg = CFG.withLayout(layout);
        check(new ResidualSublayer(layout, new Mlp("mlp", cfg, GPT2_NAMES, new RunContext(0f, 1)), "ln", "ln_out",
                "alpha", "gate", cfg, GPT2_NAMES), C, C);
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void residualSublayerWithRmsNorm(ResidualLayout layout) {
        GPTConfig cfg = LLAMA.withLayout(layout);
        check(new ResidualSublayer(layout, new SwiGluMlp("mlp", cfg, LLAMA_NAMES, new RunContext(0f, 1)), "ln",
                "ln_out", "alpha", "gate", cfg, LLAMA_NAMES), C, C);
    }

    @Test
    void block() {
        check(new Block(0, CFG, GPT2_NAMES, null, new RunContext(0f, 1)), C, C);
    }

    @Test
    void llamaBlock() {
        check(new Block(0, LLAMA, LLAMA_NAMES, new RotaryTable(LLAMA), new RunContext(0f, 1)), C, C);
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void everyLayerListsItsParametersOnce(ResidualLayout layout) {
        GPT m = new GPT(CFG.withLayout(layout), 1);
        List<Param> fromBlocks = new ArrayList<>(m.embeddingParameters());
        m.blocks().forEach(b -> fromBlocks.addAll(b.parameters()));
        fromBlocks.addAll(m.crossBlockParameters());
        fromBlocks.addAll(m.headParameters());
        assertEquals(m.parameters(), fromBlocks);
        assertEquals(layout.crossesBlocks(), !m.crossBlockParameters().isEmpty(), layout.id());
    }

    @Test
    void sandwichNamesItsSecondNorms() {
        GPT m = new GPT(CFG.withLayout(ResidualLayout.SANDWICH), 1);
        assertEquals(List.of("transformer.h.0.ln_1.weight", "transformer.h.0.ln_1.bias",
                "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
                "transformer.h.0.attn.c_proj.weight", "transformer.h.0.attn.c_proj.bias",
                "transformer.h.0.ln_attn_out.weight", "transformer.h.0.ln_attn_out.bias"),
                m.blocks().get(0).attention().parameters().stream().map(p -> p.name).toList());
    }

    /** Checks layer's input and parameter gradients on a random B×T batch, {@code in} wide in, {@code out} out. */
    static void check(Layer layer, int in, int out) {
        SplittableRandom rng = new SplittableRandom(7);
        Batch batch = Batch.sequences(B, T);
        int rows = batch.rows();
        for (Param p : layer.parameters()) {    // move away from init (unit gains, zero biases, a = 0)
            for (int i = 0; i < p.size(); i++) {
                p.data[i] += (float) (0.3 * rng.nextGaussian());
            }
        }
        float[] x = gaussian(rng, rows * in);
        float[] g = gaussian(rng, out * rows);
        // forwardPlus: residual + forward(x), the same sums wherever the residual is added.
        float[] y = java.util.Arrays.copyOf(layer.forward(x, batch), rows * out);
        float[] residual = gaussian(rng, rows * out), sum = new float[rows * out];
        assertSame(sum, layer.forwardPlus(x, batch, residual, sum, rows * out), "forwardPlus returns out");
        for (int i = 0; i < sum.length; i++) {
            assertEquals(residual[i] + y[i], sum[i], 0f, layer.getClass().getSimpleName() + ": forwardPlus [" + i + "]");
        }
        layer.forward(x, batch);
        float[] dx = new float[x.length];
        layer.parameters().forEach(Param::zeroGrad);
        layer.backward(g, dx);
        checkSetAndAccumulate(layer, rng, g, dx);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (int i = 0; i < x.length; i += 3) {
            checked += compare("x[" + i + "]", dx[i], numeric(layer, batch, x, g, x, i), failures);
        }
        for (Param p : layer.parameters()) {
            float[] grad = p.grad().clone();
            for (int i = 0; i < p.size(); i += Math.max(1, p.size() / 5)) {
                checked += compare(p.name + "[" + i + "]", grad[i], numeric(layer, batch, x, g, p.data, i), failures);
            }
        }
        if (!failures.isEmpty()) {
            fail(layer.getClass().getSimpleName() + ": " + failures.size() + " of " + checked + " checks failed:\n"
                    + String.join("\n", failures));
        }
        assertTrue(checked > 10);
    }

    /**
     * backwardSet SETS din (it starts as garbage here) to what backward adds to a zero din, and backward adds
     * to what din held; the parameter gradients accumulate in both. {@code dx} is backward's from zero.
     */
    private static void checkSetAndAccumulate(Layer layer, SplittableRandom rng, float[] g, float[] dx) {
        String name = layer.getClass().getSimpleName();
        List<float[]> grads = layer.parameters().stream().map(p -> p.grad().clone()).toList();
        float[] set = gaussian(rng, dx.length);
        layer.parameters().forEach(Param::zeroGrad);
        layer.backwardSet(g, set, dx.length);
        assertArrayEquals(dx, set, 0f, name + ": backwardSet's din");
        for (int k = 0; k < grads.size(); k++) {
            assertArrayEquals(grads.get(k), layer.parameters().get(k).grad(), 0f, name + ": backwardSet's gradients");
        }
        float[] start = gaussian(rng, dx.length), acc = start.clone();
        layer.backward(g, acc);
        for (int i = 0; i < dx.length; i++) {
            assertEquals(start[i] + dx[i], acc[i], 1e-5 * (1 + Math.abs(start[i]) + Math.abs(dx[i])), name + ": backward adds");
        }
        for (int k = 0; k < grads.size(); k++) {   // back to one backward's gradients for the finite differences
            System.arraycopy(grads.get(k), 0, layer.parameters().get(k).grad(), 0, grads.get(k).length);
        }
    }

    private static int compare(String what, double analytic, double numeric, List<String> failures) {
        if (Math.abs(analytic - numeric) > 2e-3 + 2e-2 * Math.max(Math.abs(analytic), Math.abs(numeric))) {
            failures.add(String.format("%s: analytic %.6g numeric %.6g", what, analytic, numeric));
        }
        return 1;
    }

    /** ∂f/∂a[i] by centred differences, f = Σ g ⊙ layer(x). */
    private static double numeric(Layer layer, Batch batch, float[] x, float[] g, float[] a, int i) {
        float saved = a[i], h = 1e-2f;
        a[i] = saved + h;
        double plus = dot(g, layer.forward(x, batch));
        a[i] = saved - h;
        double minus = dot(g, layer.forward(x, batch));
        a[i] = saved;
        return (plus - minus) / ((double) (saved + h) - (double) (saved - h));
    }

    /** Σ g ⊙ y over g's length (a layer's buffer may be longer than this batch needs). */
    private static double dot(float[] g, float[] y) {
        double s = 0;
        for (int i = 0; i < g.length; i++) {
            s += (double) g[i] * y[i];
        }
        return s;
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }
}
