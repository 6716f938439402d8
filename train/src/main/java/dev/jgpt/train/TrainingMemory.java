package dev.jgpt.train;

import dev.jgpt.model.GPTConfig;

import java.util.Locale;

/**
 * What training a configuration needs of the Java heap, estimated before anything is allocated, so that
 * a model too large for the heap is refused with both figures instead of dying in an
 * {@code OutOfMemoryError} halfway through its start. All in bytes of float32.
 *
 * @param parameters  the weights (GPT-2's: 12·L·d² + (V + T)·d and the small vectors)
 * @param gradients   one gradient per weight
 * @param optimizer   AdamW's two moments per weight
 * @param activations what the forward and backward passes of one micro-batch keep, as the layers
 *                    allocate it: per block about 27 B·T·d floats (layer norms, q/k/v, attention output,
 *                    4d MLP with GELU' kept for backward, their gradients, the residual sums) plus the B·H·T²
 *                    attention weights, 8 B·T·d more with dropout (the projections' own outputs, masks,
 *                    gradients); outside the blocks the B·T·V logits and a few B·T·d buffers
 */
public record TrainingMemory(long parameters, long gradients, long optimizer, long activations, int batch, int block) {

    /** The estimate for {@code model} trained on micro-batches of {@code batch} × {@code block} tokens. */
    public static TrainingMemory of(GPTConfig model, int batch, int block, double dropout) {
        // Weights as GPT-2's layers hold them (the model counts its own only once built, i.e. allocated):
        // per block q/k/v, projection and a 4d MLP, 12·d² with their biases and two layer norms; embeddings.
        long d = model.nEmbd();
        long p = model.nLayer() * (12 * d * d + 13 * d) + ((long) model.vocabSize() + model.blockSize()) * d + 2 * d;
        long rows = (long) batch * block, c = model.nEmbd();
        long perBlock = 27 * rows * c + 4 * rows + (long) batch * model.nHead() * block * block
                + (dropout > 0 ? 8 * rows * c : 0);
        long outside = 6 * rows * c + rows * model.vocabSize() + 3 * rows + (dropout > 0 ? 3 * rows * c : 0);
        return new TrainingMemory(4 * p, 4 * p, 8 * p, 4 * (model.nLayer() * perBlock + outside), batch, block);
    }

    public long total() {
        return parameters + gradients + optimizer + activations;
    }

    /**
     * Refuses, in one line with both figures, a configuration that needs more heap than is free.
     *
     * @throws IllegalArgumentException if it does not fit
     */
    public void checkFits() {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (total() <= free) {
            return;
        }
        System.gc(); // garbage is free memory too: count it only when it matters
        free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (total() > free) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "this configuration needs about %s of Java heap "
                            + "(parameters %s, gradients %s, AdamW moments %s, activations %s for a batch of %d × %d tokens) "
                            + "but %s of the %s heap is free: choose a smaller model or batch, or give Java more memory "
                            + "(bin/jgpt: JGPT_JAVA_OPTS=-Xmx16g)", human(total()), human(parameters), human(gradients),
                    human(optimizer), human(activations), batch, block, human(free), human(rt.maxMemory())));
        }
    }

    static String human(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.0f MB", Math.ceil(bytes / (double) (1L << 20)));
    }
}
