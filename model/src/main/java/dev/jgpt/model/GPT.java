package dev.jgpt.model;

import dev.jgpt.kernel.CrossEntropy;
import dev.jgpt.kernel.Embedding;
import dev.jgpt.kernel.Gemm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A GPT-2-style decoder: token + learned position embeddings, {@code nLayer} blocks of causal
 * self-attention and a 4× GELU MLP wrapped per {@link ResidualLayout}, an optional final LN, and an
 * LM head tied to the token embedding. Parameter names are Hugging Face GPT-2's.
 *
 * <p>Not thread-safe: one model runs one batch at a time (the kernels use all cores inside).
 */
public final class GPT {
    public final GPTConfig config;
    final Param wte, wpe;
    final Block[] blocks;
    final LayerNormLayer lnF;
    private final DropoutLayer embDropout;
    private final RunContext ctx;
    private final List<Param> params;
    private final Map<String, Param> byName = new LinkedHashMap<>();

    private float[] emb, logits, losses, dA, dB, dEmb, dxf;
    private float[] xf; // the input of the LM head: the last hidden state
    private int[] tokens;
    private int B, T;

    /** A model with freshly initialised weights (deterministic for a seed). */
    public GPT(GPTConfig config, long seed) {
        this(config);
        Init.initialize(this, new SplittableRandom(seed));
    }

    /** A model with zero weights and unit norms, to be filled from a checkpoint. */
    public static GPT uninitialized(GPTConfig config) {
        return new GPT(config);
    }

    private GPT(GPTConfig config) {
        this.config = config;
        this.ctx = new RunContext(config.dropout(), 1234);
        int C = config.nEmbd();
        wte = new Param("transformer.wte.weight", false, config.vocabSize(), C);
        wpe = new Param("transformer.wpe.weight", false, config.blockSize(), C);
        embDropout = new DropoutLayer(ctx, C);
        blocks = new Block[config.nLayer()];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new Block(l, config, ctx);
        }
        lnF = config.layout().hasFinalLayerNorm()
                ? new LayerNormLayer("transformer.ln_f", C, config.bias(), config.layerNormEps()) : null;
        List<Param> ps = new ArrayList<>();
        ps.add(wte);
        ps.add(wpe);
        for (Block b : blocks) {
            for (ResidualSublayer s : List.of(b.attnSub, b.mlpSub)) {
                addNorm(ps, s.ln);
                Linear[] linears = s == b.attnSub
                        ? new Linear[] {b.attn.cAttn, b.attn.cProj} : new Linear[] {b.mlp.cFc, b.mlp.cProj};
                for (Linear lin : linears) {
                    ps.add(lin.weight);
                    if (lin.bias != null) {
                        ps.add(lin.bias);
                    }
                }
                addNorm(ps, s.lnOut);
                if (s.rezeroAlpha != null) {
                    ps.add(s.rezeroAlpha);
                }
            }
        }
        addNorm(ps, lnF);
        params = Collections.unmodifiableList(ps);
        for (Param p : params) {
            if (byName.put(p.name, p) != null) {
                throw new IllegalStateException("duplicate parameter name " + p.name);
            }
        }
    }

    private static void addNorm(List<Param> ps, LayerNormLayer ln) {
        if (ln != null) {
            ps.add(ln.weight);
            if (ln.bias != null) {
                ps.add(ln.bias);
            }
        }
    }

    /** All parameters, in a fixed order (the order of Hugging Face's state dict where names overlap). */
    public List<Param> parameters() {
        return params;
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

    /** Training mode turns dropout on. */
    public void setTraining(boolean training) {
        ctx.training = training;
    }

    public boolean isTraining() {
        return ctx.training;
    }

    /** Reseeds the dropout stream (training is deterministic for a seed). */
    public void seedDropout(long seed) {
        ctx.rng = new SplittableRandom(seed);
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
        forwardToLogits(tokens, B, T);
        return logits;
    }

    /** Mean cross-entropy of the next-token targets (targets &lt; 0 are ignored); no gradients. */
    public float loss(int[] tokens, int[] targets, int B, int T) {
        forwardToLogits(tokens, B, T);
        return meanLoss(targets, 0f);
    }

    /**
     * Mean cross-entropy and its gradient: accumulates into every parameter's {@code grad}
     * (call {@link #zeroGrad()} first unless accumulating over micro-batches).
     */
    public float lossAndBackward(int[] tokens, int[] targets, int B, int T) {
        forwardToLogits(tokens, B, T);
        int rows = B * T;
        int counted = countTargets(targets, rows);
        float loss = meanLoss(targets, counted == 0 ? 0f : 1f / counted);
        backwardFromLogits();
        return loss;
    }

    private void forwardToLogits(int[] tokens, int B, int T) {
        int C = config.nEmbd(), V = config.vocabSize();
        if (T > config.blockSize()) {
            throw new IllegalArgumentException("sequence length " + T + " exceeds the model's context of "
                    + config.blockSize() + " tokens");
        }
        if (B <= 0 || T <= 0 || tokens.length < B * T) {
            throw new IllegalArgumentException("forward: need " + B + "×" + T + " tokens, got " + tokens.length);
        }
        this.tokens = tokens;
        this.B = B;
        this.T = T;
        int rows = B * T;
        emb = Buffers.ensure(emb, (long) rows * C);
        Embedding.forward(emb, tokens, wte.data, wpe.data, B, T, C, V);
        float[] x = embDropout.forward(emb, B, T);
        for (Block b : blocks) {
            x = b.forward(x, B, T);
        }
        xf = lnF != null ? lnF.forward(x, B, T) : x;
        logits = Buffers.ensure(logits, (long) rows * V);
        Gemm.linearForward(logits, xf, wte.data, null, rows, C, V);
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
        int rows = B * T;
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
        int C = config.nEmbd(), V = config.vocabSize(), rows = B * T, n = rows * C;
        dxf = Buffers.zeroed(dxf, n);
        Gemm.linearBackward(dxf, wte.grad, null, logits, xf, wte.data, rows, C, V);
        float[] dout = dxf;
        if (lnF != null) {
            dA = Buffers.zeroed(dA, n);
            lnF.backward(dxf, dA);
            dout = dA;
        }
        for (int l = blocks.length - 1; l >= 0; l--) {
            float[] din = dout == dB ? (dA = Buffers.zeroed(dA, n)) : (dB = Buffers.zeroed(dB, n));
            blocks[l].backward(dout, din);
            dout = din;
        }
        dEmb = Buffers.zeroed(dEmb, n);
        embDropout.backward(dout, dEmb);
        Embedding.backward(wte.grad, wpe.grad, dEmb, tokens, B, T, C);
    }

    /**
     * Forward of n new tokens at absolute positions ctx.position.. with attention reading and filling the
     * KV cache; returns the logits of the last new token only (the LM head is the costliest matmul).
     */
    float[] forwardCached(int[] newTokens, KVCache cache, int position, float[] lastLogits) {
        int n = newTokens.length, C = config.nEmbd(), V = config.vocabSize();
        for (int i = 0; i < n; i++) {
            if (newTokens[i] < 0 || newTokens[i] >= V) {
                throw new IllegalArgumentException("token id " + newTokens[i] + " at position " + (position + i)
                        + " is outside the vocabulary of " + V);
            }
        }
        boolean wasTraining = ctx.training;
        ctx.training = false;
        ctx.cache = cache;
        ctx.position = position;
        try {
            emb = Buffers.ensure(emb, (long) n * C);
            for (int i = 0; i < n; i++) {
                System.arraycopy(wte.data, newTokens[i] * C, emb, i * C, C);
                dev.jgpt.kernel.Vec.add(emb, i * C, wpe.data, (position + i) * C, C);
            }
            float[] x = emb;
            for (Block b : blocks) {
                x = b.forward(x, 1, n);
            }
            float[] h = lnF != null ? lnF.forward(x, 1, n) : x;
            Gemm.gemm(false, true, 1, V, C, h, (n - 1) * C, C, wte.data, 0, C, lastLogits, 0, V, false);
            return lastLogits;
        } finally {
            ctx.cache = null;
            ctx.position = 0;
            ctx.training = wasTraining;
        }
    }

    /** The residual stream after block {@code layer} from the last forward ([B·T × C], read-only). */
    public float[] blockOutput(int layer) {
        return blocks[layer].output();
    }
}
