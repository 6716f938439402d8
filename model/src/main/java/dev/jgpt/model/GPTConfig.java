package dev.jgpt.model;

import dev.jgpt.kernel.RopeTable;

import java.util.Objects;

/**
 * Shape and variant of a decoder-only transformer. Names follow Hugging Face's configs where one exists
 * (vocab_size, n_positions / max_position_embeddings, n_layer, n_head, n_embd, num_key_value_heads,
 * head_dim, intermediate_size, rope_theta, rope_scaling, tie_word_embeddings).
 *
 * <p>The switches — {@link ResidualLayout layout}, {@link Norm norm}, {@link Position position},
 * {@link FeedForwardKind mlp}, grouped-query heads ({@code nKvHead < nHead}), biases, tied head — combine
 * freely. GPT-2's block is pre-ln + layernorm + learned + gelu with biases; Llama's is pre-ln + rmsnorm +
 * rope + swiglu without biases; Qwen2 adds biases on q, k and v. {@link Family} picks the checkpoint layout.
 *
 * @param bias           biases on every linear layer and on the layer norms (nanoGPT's switch)
 * @param qkvBias        biases on the q, k and v projections (implied by {@code bias}; Qwen2 has only these)
 * @param layerNormEps   ε of every norm, LayerNorm or RMSNorm
 * @param headDim        floats per attention head; n_head·head_dim need not equal n_embd
 * @param tiedEmbeddings the LM head is the token embedding (GPT-2, SmolLM, Llama 3.2 1B) or its own matrix
 */
public record GPTConfig(int vocabSize, int blockSize, int nLayer, int nHead, int nEmbd,
                        boolean bias, float dropout, float layerNormEps,
                        ResidualLayout layout, InitScheme init,
                        Norm norm, Position position, double ropeTheta, RopeTable.Scaling ropeScaling,
                        FeedForwardKind mlp, int intermediateSize, int nKvHead, int headDim,
                        boolean qkvBias, boolean tiedEmbeddings, Family family) {

    public GPTConfig {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(blockSize > 0, "n_positions (block size) must be positive, got " + blockSize);
        require(nLayer > 0, "n_layer must be positive, got " + nLayer);
        require(nHead > 0, "n_head must be positive, got " + nHead);
        require(nEmbd > 0, "n_embd must be positive, got " + nEmbd);
        require(nKvHead > 0 && nHead % nKvHead == 0, "n_head (" + nHead + ") must be a positive multiple of "
                + "num_key_value_heads (" + nKvHead + ")");
        require(headDim > 0, "head_dim must be positive, got " + headDim);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(dropout >= 0f && dropout < 1f, "dropout must be in [0, 1), got " + dropout);
        require(layerNormEps > 0f, "layer_norm_epsilon must be positive, got " + layerNormEps);
        Objects.requireNonNull(layout, "model config: residual_layout is missing");
        Objects.requireNonNull(init, "model config: init is missing");
        Objects.requireNonNull(norm, "model config: norm is missing");
        Objects.requireNonNull(position, "model config: position is missing");
        Objects.requireNonNull(mlp, "model config: mlp is missing");
        Objects.requireNonNull(family, "model config: family is missing");
        Objects.requireNonNull(ropeScaling, "model config: rope_scaling is missing");
        require(position != Position.ROPE || headDim % 2 == 0, "rope needs an even head_dim, got " + headDim);
        require(position != Position.ROPE || ropeTheta > 0, "rope_theta must be positive, got " + ropeTheta);
        qkvBias = qkvBias || bias;
    }

    /** GPT-2's block with these sizes and switches: 4× GELU MLP, learned positions, LayerNorm, tied head. */
    public GPTConfig(int vocabSize, int blockSize, int nLayer, int nHead, int nEmbd, boolean bias, float dropout,
                     float layerNormEps, ResidualLayout layout, InitScheme init) {
        this(vocabSize, blockSize, nLayer, nHead, nEmbd, bias, dropout, layerNormEps, layout, init,
                Norm.LAYERNORM, Position.LEARNED, 10000.0, RopeTable.Scaling.NONE, FeedForwardKind.GELU,
                4 * nEmbd, nHead, gpt2HeadDim(nEmbd, nHead), bias, true, Family.GPT2);
    }

    private static int gpt2HeadDim(int nEmbd, int nHead) {
        require(nHead > 0 && nEmbd > 0 && nEmbd % nHead == 0,
                "n_embd (" + nEmbd + ") must be a positive multiple of n_head (" + nHead + ")");
        return nEmbd / nHead;
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

    /**
     * Llama's block (pre-ln, RMSNorm ε 1e-5, RoPE θ 10000, SwiGLU, no biases, tied head) with these sizes;
     * head_dim = n_embd / n_head.
     */
    public static GPTConfig llama(int vocabSize, int blockSize, int nLayer, int nHead, int nKvHead, int nEmbd,
                                  int intermediateSize) {
        return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, false, 0f, 1e-5f, ResidualLayout.PRE_LN,
                InitScheme.GPT2, Norm.RMSNORM, Position.ROPE, 10000.0, RopeTable.Scaling.NONE, FeedForwardKind.SWIGLU,
                intermediateSize, nKvHead, gpt2HeadDim(nEmbd, nHead), false, true, Family.LLAMA);
    }

    /** Llama 3.2 1B's shape (16 layers, 32 heads, 8 kv heads, 2048 wide, 8192 FFN, 128256 tokens, llama3 RoPE). */
    public static GPTConfig llama32OneB(int context) {
        return llama(128256, context, 16, 32, 8, 2048, 8192).toBuilder().ropeTheta(500000.0)
                .ropeScaling(new RopeTable.Scaling.Llama3(32.0, 1.0, 4.0, 8192)).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public GPTConfig withLayout(ResidualLayout l) {
        return toBuilder().layout(l).build();
    }

    public GPTConfig withInit(InitScheme i) {
        return toBuilder().init(i).build();
    }

    public GPTConfig withDropout(float p) {
        return toBuilder().dropout(p).build();
    }

    public GPTConfig withBias(boolean b) {
        return toBuilder().bias(b).qkvBias(b).build();
    }

    /** Floats per position per layer in a KV cache: keys or values of every kv head. */
    public int kvWidth() {
        return nKvHead * headDim;
    }

    /** DeepNorm's residual scale α = (2N)^¼ for a decoder-only model of N layers (Wang et al. 2022). */
    public static double deepNormAlpha(int nLayer) {
        return Math.pow(2.0 * nLayer, 0.25);
    }

    /** DeepNorm's init gain β = (8N)^−¼ for value, output and FFN projections. */
    public static double deepNormBeta(int nLayer) {
        return Math.pow(8.0 * nLayer, -0.25);
    }

    /** Changes some fields of a config; {@link #build} checks the result. */
    public static final class Builder {
        private int vocabSize, blockSize, nLayer, nHead, nEmbd, intermediateSize, nKvHead, headDim;
        private boolean bias, qkvBias, tiedEmbeddings;
        private float dropout, layerNormEps;
        private ResidualLayout layout;
        private InitScheme init;
        private Norm norm;
        private Position position;
        private double ropeTheta;
        private RopeTable.Scaling ropeScaling;
        private FeedForwardKind mlp;
        private Family family;

        private Builder(GPTConfig c) {
            vocabSize = c.vocabSize;
            blockSize = c.blockSize;
            nLayer = c.nLayer;
            nHead = c.nHead;
            nEmbd = c.nEmbd;
            bias = c.bias;
            dropout = c.dropout;
            layerNormEps = c.layerNormEps;
            layout = c.layout;
            init = c.init;
            norm = c.norm;
            position = c.position;
            ropeTheta = c.ropeTheta;
            ropeScaling = c.ropeScaling;
            mlp = c.mlp;
            intermediateSize = c.intermediateSize;
            nKvHead = c.nKvHead;
            headDim = c.headDim;
            qkvBias = c.qkvBias;
            tiedEmbeddings = c.tiedEmbeddings;
            family = c.family;
        }

        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder blockSize(int v) { blockSize = v; return this; }
        public Builder nLayer(int v) { nLayer = v; return this; }
        public Builder nHead(int v) { nHead = v; return this; }
        public Builder nEmbd(int v) { nEmbd = v; return this; }
        public Builder bias(boolean v) { bias = v; return this; }
        public Builder dropout(float v) { dropout = v; return this; }
        public Builder layerNormEps(float v) { layerNormEps = v; return this; }
        public Builder layout(ResidualLayout v) { layout = v; return this; }
        public Builder init(InitScheme v) { init = v; return this; }
        public Builder norm(Norm v) { norm = v; return this; }
        public Builder position(Position v) { position = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder ropeScaling(RopeTable.Scaling v) { ropeScaling = v; return this; }
        public Builder mlp(FeedForwardKind v) { mlp = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder nKvHead(int v) { nKvHead = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder qkvBias(boolean v) { qkvBias = v; return this; }
        public Builder tiedEmbeddings(boolean v) { tiedEmbeddings = v; return this; }
        public Builder family(Family v) { family = v; return this; }

        public GPTConfig build() {
            return new GPTConfig(vocabSize, blockSize, nLayer, nHead, nEmbd, bias, dropout, layerNormEps, layout, init,
                    norm, position, ropeTheta, ropeScaling, mlp, intermediateSize, nKvHead, headDim, qkvBias,
                    tiedEmbeddings, family);
        }
    }
}
