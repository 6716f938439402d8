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
    private int[] ids;
    private Batch batch;

    Embeddings(GPTConfig cfg, Names names, RunContext ctx) {
        C = cfg.nEmbd();
        V = cfg.vocabSize();
        tokens = names.matrix(names.tokenEmbedding(), false, V, C);
        positions = cfg.position() == Position.LEARNED
                ? names.matrix(names.positionEmbedding(), false, cfg.blockSize(), C) : null;
        dropout = new DropoutLayer(ctx, C);
    }

    float[] forward(int[] ids, Batch batch) {
        this.ids = ids;
        this.batch = batch;
        int rows = batch.rows();
        emb = Buffers.ensure(emb, (long) rows * C);
        if (tokens.isPacked() || positions != null && positions.isPacked()) {
            packedForward(ids, batch);
        } else if (positions == null) {
            Embedding.tokens(emb, ids, tokens.data, rows, C, V);
        } else if (batch.isCached()) {
            Embedding.forward(emb, ids, batch.positions(), tokens.data, positions.data, rows, C, V);
        } else {
            Embedding.forward(emb, ids, tokens.data, positions.data, batch.B(), batch.T(), C, V);
        }
        return dropout.forward(emb, batch);
    }

    /** The same sums from packed tables, decoded a row at a time: token row, plus position row if learned. */
    private void packedForward(int[] ids, Batch batch) {
        int rows = batch.rows();
        int[] pos = positions == null ? null : batch.positions();
        float[] row = positions == null ? null : new float[C];
        for (int r = 0; r < rows; r++) {
            if (ids[r] < 0 || ids[r] >= V) {
                throw new IllegalArgumentException("embedding: token id " + ids[r] + " at row " + r
                        + " is outside the vocabulary of " + V);
            }
            tokens.copyRow(ids[r], emb, r * C);
            if (row != null) {
                positions.copyRow(pos[r], row, 0);
                for (int i = 0; i < C; i++) {
                    emb[r * C + i] += row[i];
                }
            }
        }
    }

    void backward(float[] dout) {
        Embedding.backward(tokens.grad(), positions != null ? positions.grad() : null, dropout.backward(dout), ids,
                batch.B(), batch.T(), C);
    }

    List<Param> parameters() {
        return Layer.parametersOf(tokens, positions);
    }
}
