package dev.jgpt.model;

import dev.jgpt.kernel.CrossEntropy;
import dev.jgpt.kernel.Gemm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * A decoder-only transformer: token embeddings (+ learned positions, or rotary ones inside attention),
 * {@code nLayer} blocks of causal self-attention and a feed-forward sublayer wrapped per
 * {@link ResidualLayout}, an optional final norm, and an LM head tied to the token embedding or its own.
 * The switches are the config's ({@link GPTConfig}): GPT-2's block, Llama's, Qwen2's and any mix.
 * Parameter names are those of the config's {@link Family}; the list of parameters is whatever the layers
 * list ({@link Layer#parameters}).
 *
 * <p>Not thread-safe: one model runs one batch at a time (the kernels use all cores inside).
 */
public final class GPT {
    public final GPTConfig config;
    final Embeddings embeddings;
    /** The blocks and the wiring between them (dense's and unet's cross-block connections). */
    private final BlockStack stack;
    /** The final norm before the head (pre-LN-style layouts); null otherwise. */
    final Layer lnF;
    /** The LM head's own weight [vocab × C]; null when tied to the token embedding. */
    final Param lmHead;
    private final RunContext ctx;
    private final List<Param> params;
    private final Map<String, Param> byName = new LinkedHashMap<>();

    private float[] logits, losses, dA, dxf, headIn;
    private float[] xf; // the input of the LM head: the last hidden state
    private Batch batch;

    /** A model with freshly initialised weights (deterministic for a seed). */
    public GPT(GPTConfig config, long seed) {
        this(config);
        Init.initialize(this, new SplittableRandom(seed));
    }

    /** A model with zero weights and unit norms, to be filled from a checkpoint. */
    public static GPT uninitialized(GPTConfig config) {
        return new GPT(config, name -> false);
    }

    /**
     * A model for inference whose matrices with a checkpoint tensor ({@link Param#stored}) named by
     * {@code packed} hold no f32 values: each must be given
     * its weights in a storage format with {@link Param#pack} (a GGUF file's tensors, quantized weights).
     * The rest is zero weights and unit norms, to be filled from a checkpoint.
     */
    public static GPT uninitialized(GPTConfig config, Predicate<String> packed) {
        return new GPT(config, packed);
    }

    private GPT(GPTConfig config) {
        this(config, name -> false);
    }

    private GPT(GPTConfig config, Predicate<String> packed) {
        this.config = config;
        this.ctx = new RunContext(config.dropout(), 1234);
        Names names = new Names(config.family(), packed);
        RotaryTable rotary = config.position() == Position.ROPE ? new RotaryTable(config) : null;
        embeddings = new Embeddings(config, names, ctx);
        List<Block> bs = new ArrayList<>();
        for (int l = 0; l < config.nLayer(); l++) {
            bs.add(new Block(l, config, names, rotary, ctx));
        }
        stack = new BlockStack(bs, config, names);
        lnF = config.layout().hasFinalLayerNorm() ? RmsNormLayer.of(config, names.finalNorm()) : null;
        lmHead = config.tiedEmbeddings() ? null
                : names.matrix(names.lmHead() + ".weight", false, config.vocabSize(), config.nEmbd());
        List<Param> ps = new ArrayList<>(embeddings.parameters());
        bs.forEach(b -> ps.addAll(b.parameters()));
        ps.addAll(stack.parameters());
        ps.addAll(headParameters());
        params = List.copyOf(ps);
        for (Param p : params) {
            if (byName.put(p.name, p) != null) {
                throw new IllegalStateException("duplicate parameter name " + p.name);
            }
        }
    }

    /** All parameters, in a fixed order (the order of Hugging Face's state dict where names overlap). */
    public List<Param> parameters() {
        return params;
    }

    /** The token and position embeddings (the token embedding is also the tied LM head). */
    public List<Param> embeddingParameters() {
        return embeddings.parameters();
    }

    /** The blocks, first to last. */
    public List<Block> blocks() {
        return stack.blocks();
    }

    /**
     * Parameters of the wiring between blocks, of no single block: dense's depth-weighted averages and
     * unet's skip weights (empty for the other layouts). In {@link #parameters} between the blocks' and the head's.
     */
    public List<Param> crossBlockParameters() {
        return stack.parameters();
    }

    /** What sits between the last block and the logits: the final norm, if any, and an untied LM head. */
    public List<Param> headParameters() {
        return Layer.parametersOf(lnF, lmHead);
    }

    /** The LM head's weight [vocab × C]: the token embedding when tied. */
    private Param head() {
        return lmHead != null ? lmHead : embeddings.tokens;
    }

    /** The parameter with this Hugging Face-style name, or an exception naming it. */
    public Param param(String name) {
        Param p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("model has no parameter named " + name);
        }
        return p;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : params) {
            n += p.size();
        }
        return n;
    }

    /**
     * Training FLOPs per token, nanoGPT's estimate: 6N + 12·L·(n_head·head_dim)·T, N without position
     * embeddings (and, for an untied head, with it: its matmul is as costly as the tied one's).
     */
    public double trainingFlopsPerToken(int seqLen) {
        long n = parameterCount() - (embeddings.positions != null ? embeddings.positions.size() : 0);
        return 6.0 * n + 12.0 * config.nLayer() * config.nHead() * config.headDim() * seqLen;
    }

    /** Training mode turns dropout on. */
    public void setTraining(boolean training) {
        ctx.training = training;
    }

    public boolean isTraining() {
        return ctx.training;
    }

    /** Reseeds the dropout stream (training is deterministic for a seed). */
    public void seedDropout(long seed) {
        ctx.dropoutSeed = seed;
        ctx.dropoutDrawn = 0;
    }

    /**
     * Leaves the marked blocks out of every following forward and backward: each becomes the identity on
     * the residual stream (a lesion; LayerDrop's dropped block). {@code null} or all false: every block runs.
     * Their outputs ({@link #residualStream}) are then the stream passed through unchanged.
     */
    public void skipBlocks(boolean[] skip) {
        if (skip != null && skip.length != config.nLayer()) {
            throw new IllegalArgumentException("skipBlocks: " + skip.length + " flags for " + config.nLayer() + " blocks");
        }
        stack.skip(skip == null ? null : skip.clone());
    }

    public void zeroGrad() {
        for (Param p : params) {
            p.zeroGrad();
        }
    }

    /**
     * Runs the network over tokens [B×T] and returns the logits [B·T × vocab] (a buffer the model owns,
     * overwritten by the next call).
     */
    public float[] logits(int[] tokens, int B, int T) {
        forwardToLogits(tokens, sequences(tokens, B, T));
        return logits;
    }

    /** Mean cross-entropy of the next-token targets (targets &lt; 0 are ignored); no gradients. */
    public float loss(int[] tokens, int[] targets, int B, int T) {
        forwardToLogits(tokens, sequences(tokens, B, T));
        return meanLoss(targets, 0f);
    }

    /**
     * Mean cross-entropy and its gradient: accumulates into every parameter's {@code grad}
     * (call {@link #zeroGrad()} first unless accumulating over micro-batches).
     */
    public float lossAndBackward(int[] tokens, int[] targets, int B, int T) {
        forwardToLogits(tokens, sequences(tokens, B, T));
        int counted = countTargets(targets, B * T);
        float loss = meanLoss(targets, counted == 0 ? 0f : 1f / counted);
        backwardFromLogits();
        return loss;
    }

    private Batch sequences(int[] tokens, int B, int T) {
        if (T > config.blockSize()) {
            throw new IllegalArgumentException("sequence length " + T + " exceeds the model's context of "
                    + config.blockSize() + " tokens");
        }
        if (B <= 0 || T <= 0 || tokens.length < B * T) {
            throw new IllegalArgumentException("forward: need " + B + "×" + T + " tokens, got " + tokens.length);
        }
        return Batch.sequences(B, T);
    }

    /** Embeddings → blocks → final LN: the last hidden state of every row of the batch. */
    private float[] hidden(int[] tokens, Batch b) {
        this.batch = b;
        float[] x = stack.forward(embeddings.forward(tokens, b), b);
        return lnF != null ? lnF.forward(x, b) : x;
    }

    private void forwardToLogits(int[] tokens, Batch b) {
        xf = hidden(tokens, b);
        int rows = b.rows(), C = config.nEmbd(), V = config.vocabSize();
        logits = Buffers.ensure(logits, (long) rows * V);
        Linear.multiply(logits, xf, head(), null, rows, C, V);
    }

    private static int countTargets(int[] targets, int rows) {
        int n = 0;
        for (int i = 0; i < rows; i++) {
            if (targets[i] >= 0) {
                n++;
            }
        }
        return n;
    }

    private float meanLoss(int[] targets, float gradScale) {
        int rows = batch.rows();
        if (targets.length < rows) {
            throw new IllegalArgumentException("loss: need " + rows + " targets, got " + targets.length);
        }
        losses = Buffers.ensure(losses, rows);
        int counted = CrossEntropy.forwardBackward(logits, targets, losses, rows, config.vocabSize(), gradScale);
        double sum = 0;
        for (int i = 0; i < rows; i++) {
            sum += losses[i];
        }
        return counted == 0 ? 0f : (float) (sum / counted);
    }

    /** Backward from dlogits (left in the logits buffer by the fused cross-entropy). */
    private void backwardFromLogits() {
        int C = config.nEmbd(), V = config.vocabSize(), rows = batch.rows(), n = rows * C;
        dxf = Buffers.ensure(dxf, n);
        // The head's gradient (the token embeddings' when tied: their scatter adds to it after) is set if still zero.
        boolean addDw = !head().gradIsZero();
        Gemm.linearBackward(dxf, false, head().gradToSet(), addDw, null, logits, xf, head().data, rows, C, V);
        float[] dout = dxf;
        if (lnF != null) {
            dA = Buffers.ensure(dA, n);
            lnF.backwardSet(dxf, dA, n);
            dout = dA;
        }
        embeddings.backward(stack.backward(dout));
    }

    /**
     * Inference over the new tokens of one or more cached sequences ({@link Batch#cached}; tokens of the
     * sequences one after another): runs them through every layer, appending their keys and values to
     * each sequence's cache, and writes the logits of each sequence's LAST new token into
     * {@code lastLogits} [sequences × vocab] (the LM head is the costliest matmul, so only those rows).
     * Dropout is off; the training mode is left as it was.
     */
    public float[] forwardCached(int[] tokens, Batch batch, float[] lastLogits) {
        if (!batch.isCached()) {
            throw new IllegalArgumentException("forwardCached needs a cached batch, got " + batch);
        }
        int rows = batch.rows(), S = batch.sequenceCount(), C = config.nEmbd(), V = config.vocabSize();
        if (tokens.length < rows || lastLogits.length < (long) S * V) {
            throw new IllegalArgumentException("forwardCached: need " + rows + " tokens and " + S + "×" + V
                    + " logits, got " + tokens.length + " and " + lastLogits.length);
        }
        int[] positions = batch.positions();
        for (int i = 0; i < rows; i++) {
            if (tokens[i] < 0 || tokens[i] >= V) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + positions[i]
                        + " is outside the vocabulary of " + V);
            }
        }
        boolean wasTraining = ctx.training;
        ctx.training = false;
        try {
            float[] h = hidden(tokens, batch);
            headIn = Buffers.ensure(headIn, (long) S * C);
            for (int s = 0; s < S; s++) {
                System.arraycopy(h, (batch.firstRow(s) + batch.count(s) - 1) * C, headIn, s * C, C);
            }
            if (head().isPacked()) {
                for (int s = 0; s < S; s++) {   // each sequence's logits as if it were alone
                    head().packedMatmul(lastLogits, s, headIn, s, 1);
                }
            } else {
                Gemm.linearRows(lastLogits, 0, headIn, 0, head().data, null, S, C, V);
            }
            return lastLogits;
        } finally {
            ctx.training = wasTraining;
        }
    }

    /**
     * The residual stream of the last forward ([rows × C], read-only, the buffer may be longer): the input of
     * block l for l &lt; n_layer (the embeddings for l = 0), the stream the final norm reads for l = n_layer.
     * For every layout but dense and unet that is the output of block l − 1 for l ≥ 1 (see {@link BlockStack}).
     */
    public float[] residualStream(int l) {
        return stack.input(l);
    }

    /** Block l's own output in the last forward (the stream before dense's or unet's wiring adds to it). */
    public float[] blockOutput(int l) {
        return stack.output(l);
    }
}
