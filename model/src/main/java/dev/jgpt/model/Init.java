package dev.jgpt.model;

import java.util.SplittableRandom;

/**
 * Weight initialisation. Biases start at 0, LN gains at 1 (set by the layers). The scheme picks the
 * std of each projection; DeepNorm then scales value, output and FFN projections by β = (8N)^−¼
 * (with {@code xavier} this is exactly DeepNet's init). ReZero's a starts at 0, highway's gate bias at
 * {@link ResidualSublayer#HIGHWAY_CARRY_BIAS}, dense's and unet's wiring as {@link BlockStack} says (set by
 * the layers, like the norms' unit gains).
 */
final class Init {
    private static final double GPT2_STD = 0.02;

    private Init() {}

    static void initialize(GPT model, SplittableRandom rng) {
        GPTConfig cfg = model.config;
        int C = cfg.nEmbd(), L = cfg.nLayer();
        for (Param p : model.embeddingParameters()) {
            gaussian(p.data, 0, p.size(), GPT2_STD, rng);
        }
        boolean deepNorm = cfg.layout() == ResidualLayout.DEEPNORM;
        double beta = deepNorm ? GPTConfig.deepNormBeta(L) : 1.0;
        int Q = cfg.nHead() * cfg.headDim(), KV = cfg.kvWidth(), I = cfg.intermediateSize();
        for (Block b : model.blocks()) {
            // q, k and v are packed as rows [q | k | v] of one matrix; each is initialised on its own,
            // and DeepNet scales v, not q or k.
            float[] qkv = b.attn.qkv.weight.data;
            gaussian(qkv, 0, Q * C, std(cfg, C, Q, false), rng);
            gaussian(qkv, Q * C, KV * C, std(cfg, C, KV, false), rng);
            gaussian(qkv, (Q + KV) * C, KV * C, std(cfg, C, KV, false) * beta, rng);
            linear(b.attn.proj, cfg, true, beta, rng);
            // A gated unit's [gate | up] rows are two projections of width I.
            Linear in = b.mlp.in();
            gaussian(in.weight.data, 0, in.weight.size(), std(cfg, C, I, false) * beta, rng);
            linear(b.mlp.out(), cfg, true, beta, rng);
            for (ResidualSublayer sub : new ResidualSublayer[] {b.attention(), b.feedForward()}) {
                if (sub.gate() != null) {   // highway: W_g as any projection; b_g keeps its carry bias
                    linear(sub.gate(), cfg, false, 1.0, rng);
                }
            }
        }
        if (model.lmHead != null) {
            gaussian(model.lmHead.data, 0, model.lmHead.size(), GPT2_STD, rng);
        }
    }

    private static void linear(Linear lin, GPTConfig cfg, boolean residualProjection, double gain, SplittableRandom rng) {
        double std = std(cfg, lin.in, lin.out, residualProjection) * gain;
        gaussian(lin.weight.data, 0, lin.weight.size(), std, rng);
    }

    private static double std(GPTConfig cfg, int fanIn, int fanOut, boolean residualProjection) {
        return switch (cfg.init()) {
            case GPT2 -> residualProjection ? GPT2_STD / Math.sqrt(2.0 * cfg.nLayer()) : GPT2_STD;
            case XAVIER -> Math.sqrt(2.0 / (fanIn + fanOut));
        };
    }

    private static void gaussian(float[] a, int off, int n, double std, SplittableRandom rng) {
        for (int i = off; i < off + n; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
    }
}
