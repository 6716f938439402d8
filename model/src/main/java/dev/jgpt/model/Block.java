package dev.jgpt.model;

import java.util.List;

/** One transformer block: attention then the feed-forward sublayer, each wrapped by {@link ResidualSublayer}. */
public final class Block implements Layer {
    final CausalSelfAttention attn;
    final FeedForward mlp;
    private final ResidualSublayer attnSub, mlpSub;
    private float[] dmid;
    private int n;

    Block(int index, GPTConfig cfg, Names names, RotaryTable rotary, RunContext ctx) {
        String p = names.block(index) + ".";
        ResidualLayout layout = cfg.layout();
        attn = new CausalSelfAttention(p + names.attention(), index, cfg, names, rotary, ctx);
        mlp = FeedForward.of(cfg, p + "mlp", names, ctx);
        attnSub = new ResidualSublayer(layout, attn, p + names.attentionNorm(), p + names.attentionOutNorm(),
                p + names.attentionAlpha(), p + names.attentionGate(), cfg, names);
        mlpSub = new ResidualSublayer(layout, mlp, p + names.feedForwardNorm(), p + names.feedForwardOutNorm(),
                p + names.feedForwardAlpha(), p + names.feedForwardGate(), cfg, names);
    }

    /** The attention sublayer with its residual connection (its norms and ReZero's a included). */
    public ResidualSublayer attention() {
        return attnSub;
    }

    /** The feed-forward sublayer with its residual connection. */
    public ResidualSublayer feedForward() {
        return mlpSub;
    }

    /** The feed-forward network itself. */
    public FeedForward mlp() {
        return mlp;
    }

    @Override
    public float[] forward(float[] x, Batch batch) {
        n = batch.rows() * attn.proj.out;
        return mlpSub.forward(attnSub.forward(x, batch), batch);
    }

    @Override
    public void backward(float[] dout, float[] dx) {
        attnSub.backward(midGradient(dout), dx);
    }

    @Override
    public void backwardSet(float[] dout, float[] dx, int n) {
        attnSub.backwardSet(midGradient(dout), dx, n);
    }

    /** The gradient at the stream between the two sublayers. */
    private float[] midGradient(float[] dout) {
        dmid = Buffers.ensure(dmid, n);
        mlpSub.backwardSet(dout, dmid, n);
        return dmid;
    }

    @Override
    public List<Param> parameters() {
        return Layer.parametersOf(attnSub, mlpSub);
    }
}
