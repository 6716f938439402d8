package dev.jgpt.model;

import dev.jgpt.kernel.Vec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The blocks and how the residual stream passes from one to the next: the one place a layout wires blocks
 * together. With x_l the input of block l, y_{l+1} = B_l(x_l) its output and y_0 = x_0 the embedding,
 * L blocks, n = ⌊L/2⌋:
 *
 * <pre>
 * plain   x_{l+1} = y_{l+1}                                   (every layout but dense and unet)
 * dense   x_{l+1} = Σ_{j ≤ l+1} α_{l,j}·y_j                   α_{l,l+1} = 1, the others 0 at init: pre-LN
 * unet    x_l = y_l + w_k·y_{L−l}   for l = L−n+k ≥ L−n     w = 1 at init; y_{L−l} is the output of
 *                                                             block L−1−l, l's mirror in the first half
 * </pre>
 *
 * The stream the final norm reads is x_L (for plain and unet the last block's output). Dense is DenseFormer's
 * depth-weighted average after every block (Pagliardini et al. 2024); unet the long skips of modded-nanogpt,
 * the k-th last block of the first half feeding the k-th first block of the second half with
 * {@code skip_weights[k]}. Every connection is per position, so cached (inference) batches need nothing
 * more. A skipped block ({@link GPT#skipBlocks}) is the identity, y_{l+1} = x_l; the wiring stays.
 */
final class BlockStack {
    private final List<Block> blocks;
    private final ResidualLayout layout;
    private final int L, C;
    /** dense: α_l [l + 2] over y_0..y_{l+1}, for l = 0..L−1; null otherwise. */
    private final Param[] dense;
    /** unet: w [n]; null otherwise (and for a single block, which has no mirror). */
    private final Param skips;
    private final int receivers;   // unet: n, the number of skips

    private boolean[] skipped;
    private final float[][] x, y;   // x[l]: input of block l (x[L]: the stream leaving); y[l]: y_l (y[0] = x_0)
    private final float[][] mixed;  // dense and unet: buffers of the x_l that are sums
    private float[][] dy;           // dense and unet: ∂loss/∂y_l accumulated over every x that reads y_l
    private float[] dA, dB;
    private int n;                  // floats in the stream of the last forward

    BlockStack(List<Block> blocks, GPTConfig cfg, Names names) {
        this.blocks = List.copyOf(blocks);
        this.layout = cfg.layout();
        this.L = blocks.size();
        this.C = cfg.nEmbd();
        x = new float[L + 1][];
        y = new float[L + 1][];
        mixed = new float[L + 1][];
        if (layout == ResidualLayout.DENSE) {
            dense = new Param[L];
            for (int l = 0; l < L; l++) {
                dense[l] = new Param(names.denseWeights(l), false, l + 2);
                dense[l].data[l + 1] = 1f;
            }
        } else {
            dense = null;
        }
        receivers = layout == ResidualLayout.UNET ? L / 2 : 0;
        skips = receivers > 0 ? new Param(names.skipWeights(), false, receivers) : null;
        if (skips != null) {
            Arrays.fill(skips.data, 1f);
        }
    }

    List<Block> blocks() {
        return blocks;
    }

    /** dense's α and unet's w, in that order of blocks: parameters of no single block. */
    List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        if (dense != null) {
            ps.addAll(List.of(dense));
        }
        if (skips != null) {
            ps.add(skips);
        }
        return List.copyOf(ps);
    }

    void skip(boolean[] skip) {
        skipped = skip;
    }

    private boolean skips(int l) {
        return skipped != null && skipped[l];
    }

    /** unet: which skip feeds block l's input, or −1. */
    private int skipInto(int l) {
        return l >= L - receivers ? l - (L - receivers) : -1;
    }

    /** Runs the blocks from the embedding x0; returns x_L (a buffer owned by the stack or a block). */
    float[] forward(float[] x0, Batch b) {
        n = b.rows() * C;
        x[0] = y[0] = x0;
        for (int l = 0; l < L; l++) {
            y[l + 1] = skips(l) ? x[l] : blocks.get(l).forward(x[l], b);
            x[l + 1] = switch (layout) {
                case DENSE -> {
                    float[] s = mixed[l + 1] = Buffers.zeroed(mixed[l + 1], n);
                    for (int j = 0; j <= l + 1; j++) {
                        Vec.axpy(dense[l].data[j], y[j], s, n);
                    }
                    yield s;
                }
                case UNET -> {
                    int k = l + 1 < L ? skipInto(l + 1) : -1;
                    if (k < 0) {
                        yield y[l + 1];
                    }
                    float[] s = mixed[l + 1] = Buffers.ensure(mixed[l + 1], n);
                    System.arraycopy(y[l + 1], 0, s, 0, n);
                    Vec.axpy(skips.data[k], y[L - l - 1], s, n);
                    yield s;
                }
                default -> y[l + 1];
            };
        }
        return x[L];
    }

    /** Backward from ∂loss/∂x_L; returns ∂loss/∂x_0 (a buffer owned by the stack). */
    float[] backward(float[] dxL) {
        if (!layout.crossesBlocks()) {
            float[] dout = dxL;
            for (int l = L - 1; l >= 0; l--) {
                if (skips(l)) {
                    continue;   // the identity: the gradient passes through unchanged
                }
                float[] din = dout == dB ? (dA = Buffers.ensure(dA, n)) : (dB = Buffers.ensure(dB, n));
                blocks.get(l).backwardSet(dout, din, n);
                dout = din;
            }
            return dout;
        }
        if (dy == null) {
            dy = new float[L + 1][];
        }
        for (int j = 0; j <= L; j++) {
            dy[j] = Buffers.zeroed(dy[j], n);
        }
        float[] dx = dxL;   // ∂loss/∂x_l, complete once every reader of x_l is done: only block l reads it
        for (int l = L; l >= 1; l--) {
            // x_l is a sum of ys: hand its gradient to each (and to the weights).
            if (layout == ResidualLayout.DENSE) {
                Param a = dense[l - 1];
                for (int j = 0; j <= l; j++) {
                    a.grad()[j] += Vec.dot(dx, 0, y[j], 0, n);
                    Vec.axpy(a.data[j], dx, dy[j], n);
                }
            } else {
                Vec.add(dy[l], 0, dx, 0, n);
                int k = l < L ? skipInto(l) : -1;
                if (k >= 0) {
                    skips.grad()[k] += Vec.dot(dx, 0, y[L - l], 0, n);
                    Vec.axpy(skips.data[k], dx, dy[L - l], n);
                }
            }
            // Every x reading y_l (x_l itself, later ones for dense, a mirror for unet) is done: through block l−1.
            if (skips(l - 1)) {
                dx = dy[l];
            } else {
                float[] din = dx == dB ? (dA = Buffers.ensure(dA, n)) : (dB = Buffers.ensure(dB, n));
                blocks.get(l - 1).backwardSet(dy[l], din, n);
                dx = din;
            }
        }
        Vec.add(dy[0], 0, dx, 0, n);    // x_0 = y_0, read by block 0 and, in dense, by every α_{l,0}
        return dy[0];
    }

    /** x_l: the input of block l for l &lt; L, the stream leaving the last block for l = L (last forward). */
    float[] input(int l) {
        return x[l];
    }

    /** y_{l+1}: block l's own output in the last forward, before any cross-block wiring. */
    float[] output(int l) {
        return y[l + 1];
    }
}
