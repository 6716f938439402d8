package dev.jgpt.model;

import dev.jgpt.kernel.Embedding;

import java.util.List;

/** The input of the network: token embedding + learned position embedding, then dropout. */
final class Embeddings {
    /** wte [vocab × C]: also the tied LM head. */
    final Param tokens;
    /** wpe [context × C]. */
    final Param positions;
    private final DropoutLayer dropout;
    private final int C, V;
    private float[] emb;
    private float[] dEmb;
    private int[] ids;
    private Batch batch;

    Embeddings(GPTConfig cfg, RunContext ctx) {
        C = cfg.nEmbd();
        V = cfg.vocabSize();
        tokens = new Param("transformer.wte.weight", false, V, C);
        positions = new Param("transformer.wpe.weight", false, cfg.blockSize(), C);
        dropout = new DropoutLayer(ctx, C);
    }

    float[] forward(int[] ids, Batch batch) {
        this.ids = ids;
        this.batch = batch;
        emb = Buffers.ensure(emb, (long) batch.rows() * C);
        if (batch.isCached()) {
            Embedding.forward(emb, ids, batch.positions(), tokens.data, positions.data, batch.rows(), C, V);
        } else {
            Embedding.forward(emb, ids, tokens.data, positions.data, batch.B(), batch.T(), C, V);
        }
        return dropout.forward(emb, batch);
    }

    void backward(float[] dout) {
        int n = batch.rows() * C;
        dEmb = Buffers.zeroed(dEmb, n);
        dropout.backward(dout, dEmb);
        Embedding.backward(tokens.grad(), positions.grad(), dEmb, ids, batch.B(), batch.T(), C);
    }

    List<Param> parameters() {
        return Layer.parametersOf(tokens, positions);
    }
}
