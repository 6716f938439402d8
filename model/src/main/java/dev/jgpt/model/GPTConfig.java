package dev.jgpt.model;

/**
 * Shape and variant of a GPT. Names follow Hugging Face's GPT2Config where one exists
 * (vocab_size, n_positions, n_layer, n_head, n_embd, layer_norm_epsilon).
 */
public record GPTConfig(int vocabSize, int blockSize, int nLayer, int nHead, int nEmbd,
                        boolean bias, float dropout, float layerNormEps,
                        ResidualLayout layout, InitScheme init) {

    public GPTConfig {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(blockSize > 0, "n_positions (block size) must be positive, got " + blockSize);
        require(nLayer > 0, "n_layer must be positive, got " + nLayer);
        require(nHead > 0, "n_head must be positive, got " + nHead);
        require(nEmbd > 0 && nEmbd % nHead == 0, "n_embd (" + nEmbd + ") must be a positive multiple of n_head (" + nHead + ")");
        require(dropout >= 0f && dropout < 1f, "dropout must be in [0, 1), got " + dropout);
        require(layerNormEps > 0f, "layer_norm_epsilon must be positive, got " + layerNormEps);
        require(layout != null, "residual_layout is missing");
        require(init != null, "init is missing");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("model config: " + message);
        }
    }

    /** A pre-LN GPT-2-style config with bias, no dropout, ε = 1e-5 and GPT-2 init. */
    public static GPTConfig of(int vocabSize, int blockSize, int nLayer, int nHead, int nEmbd) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, true, 0f, 1e-5f,
                ResidualLayout.PRE_LN, InitScheme.GPT2);
    }

    /** GPT-2 small (124M): 12 layers, 12 heads, 768 wide, 1024 context, 50257 tokens. */
    public static GPTConfig gpt2Small() {
        return of(50257, 1024, 12, 12, 768);
    }

    public GPTConfig withLayout(ResidualLayout l) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, bias, dropout, layerNormEps, l, init);
    }

    public GPTConfig withInit(InitScheme i) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, bias, dropout, layerNormEps, layout, i);
    }

    public GPTConfig withDropout(float p) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, bias, p, layerNormEps, layout, init);
    }

    public GPTConfig withBias(boolean b) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, b, dropout, layerNormEps, layout, init);
    }

    /** DeepNorm's residual scale α = (2N)^¼ for a decoder-only model of N layers (Wang et al. 2022). */
    public static double deepNormAlpha(int nLayer) {
        return Math.pow(2.0 * nLayer, 0.25);
    }

    /** DeepNorm's init gain β = (8N)^−¼ for value, output and FFN projections. */
    public static double deepNormBeta(int nLayer) {
        return Math.pow(8.0 * nLayer, -0.25);
    }
}
