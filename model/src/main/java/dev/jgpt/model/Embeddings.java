package dev.jgpt.model;

import dev.jgpt.kernel.Embedding;

import java.util.List;

/** The input of the network: token embedding (+ learned position embedding, unless rotary), then dropout. */
final class Embeddings {
    /** [vocab × C]: also the LM head when the head is tied. */
    final Param tokens;
    /** [context × C], or null with rotary positions. */
    final Param positions;
    private final DropoutLayer dropout;
    private final int C, V;
    private float[] emb;
    private float[] dEmb;
    private int[] ids;
    private Batch batch;

    Embeddings(GPTConfig cfg, Names names, RunContext ctx) {
        C = cfg.nEmbd();
        V = cfg.vocabSize();
        tokens = new Param(names.tokenEmbedding(), false, V, C);
        positions = cfg.position() == Position.LEARNED
                ? new Param(names.positionEmbedding(), false, cfg.blockSize(), C) : null;
        dropout = new DropoutLayer(ctx, C);
    }

    float[] forward(int[] ids, Batch batch) {
        this.ids = ids;
        this.batch = batch;
        int rows = batch.rows();
        emb = Buffers.ensure(emb, (long) rows * C);
        if (positions == null) {
            Embedding.tokens(emb, ids, tokens.data, rows, C, V);
        } else if (batch.isCached()) {
            Embedding.forward(emb, ids, batch.positions(), tokens.data, positions.data, rows, C, V);
        } else {
            Embedding.forward(emb, ids, tokens.data, positions.data, batch.B(), batch.T(), C, V);
        }
        return dropout.forward(emb, batch);
    }

    void backward(float[] dout) {
        int n = batch.rows() * C;
        dEmb = Buffers.zeroed(dEmb, n);
        dropout.backward(dout, dEmb);
        Embedding.backward(tokens.grad(), positions != null ? positions.grad() : null, dEmb, ids, batch.B(), batch.T(), C);
    }

    List<Param> parameters() {
        return Layer.parametersOf(tokens, positions);
    }
}
