package dev.jgpt.study;

import dev.jgpt.kernel.Vec;
import dev.jgpt.model.Block;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measurements that explain why a residual layout trains or not, for any {@link GPT}: per-layer gradient
 * norms, the residual stream's size per layer, how far the model's outputs have moved since a reference
 * point, and how sensitive the outputs are to a small random weight perturbation.
 *
 * <p>Use after {@link GPT#lossAndBackward}: {@link #gradients} reads the accumulated gradients and
 * {@link #residualMeanSquare} reads the block outputs of that same forward. Nothing here changes the
 * model, except {@link #perturbationSensitivity}, which restores every weight before returning.
 */
public final class Diagnostics {
    private Diagnostics() {
    }

    /**
     * Gradient L2 norms per block l (0-based): attention sublayer (its LN, q/k/v and output projections,
     * ReZero's a), FFN sublayer (its LN, c_fc, c_proj), the whole block; and the FFN's two weight matrices
     * on their own — {@code ffnOut[l]} is ‖∂L/∂W^{2,l}‖_F, the matrix of Xiong et al. (2020) Theorem 1.
     * {@code embedding} covers the tied token embedding / LM head and the position embedding; {@code crossBlock}
     * the weights of dense's and unet's wiring between blocks (0 for other layouts).
     */
    public record LayerGradients(double[] attention, double[] ffn, double[] block, double[] ffnIn, double[] ffnOut,
                                 double embedding, double finalNorm, double crossBlock, double total) {
        /** ‖∂L/∂W^{2,L}‖_F: the last block's FFN output projection (Xiong et al. Thm 1). */
        public double lastLayerFfn() {
            return ffnOut[ffnOut.length - 1];
        }
    }

    /** Gradient norms grouped per block and sublayer, from the gradients the model holds now. */
    public static LayerGradients gradients(GPT model) {
        List<Block> blocks = model.blocks();
        int L = blocks.size();
        double[] attn = new double[L], ffn = new double[L], block = new double[L], fcIn = new double[L], fcOut = new double[L];
        for (int l = 0; l < L; l++) {
            Block b = blocks.get(l);
            attn[l] = sumSquares(b.attention().parameters());
            ffn[l] = sumSquares(b.feedForward().parameters());
            block[l] = attn[l] + ffn[l];
            fcIn[l] = sumSquares(List.of(b.mlp().in().weight));
            fcOut[l] = sumSquares(List.of(b.mlp().out().weight));
        }
        double emb = sumSquares(model.embeddingParameters()), head = sumSquares(model.headParameters());
        double wiring = sumSquares(model.crossBlockParameters());
        double total = emb + head + wiring;
        for (double b : block) {
            total += b;
        }
        return new LayerGradients(sqrt(attn), sqrt(ffn), sqrt(block), sqrt(fcIn), sqrt(fcOut),
                Math.sqrt(emb), Math.sqrt(head), Math.sqrt(wiring), Math.sqrt(total));
    }

    private static double sumSquares(List<Param> params) {
        double ss = 0;
        for (Param p : params) {
            ss += Vec.sumSquares(p.grad(), 0, p.size());
        }
        return ss;
    }

    private static double[] sqrt(double[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.sqrt(a[i]);
        }
        return a;
    }

    /**
     * m_l = mean over the B·T rows of ‖x_l‖²/d for l = 0..L, where x_0 is the embedding sum (token +
     * position; the study runs without dropout) and x_l the residual stream after block l, read from the model's last forward, which must
     * have been run on {@code tokens} (B×T).
     */
    public static double[] residualMeanSquare(GPT model, int[] tokens, int B, int T) {
        int L = model.config.nLayer(), C = model.config.nEmbd(), rows = B * T;
        if (tokens.length < rows) {
            throw new IllegalArgumentException("residualMeanSquare: need " + B + "×" + T + " tokens, got " + tokens.length);
        }
        double[] m = new double[L + 1];
        for (int l = 0; l <= L; l++) {
            m[l] = Vec.sumSquares(model.residualStream(l), 0, rows * C) / ((double) rows * C);
        }
        return m;
    }

    /**
     * Xiong et al.'s Lemma 2 is stated for unit-variance inputs (‖x_0‖²/d = 1), but GPT embeddings start
     * near 0.02² per element. In pre-LN every sublayer sees LN(x), so its output does not depend on the
     * scale of x and (at init, independent zero-mean weights) is uncorrelated with x: E‖x_l‖² = E‖x_0‖² +
     * Σ E‖F‖². Shifting by the measured input therefore gives what a unit-variance input would:
     * ρ_l = 1 + m_l − m_0, comparable with the band 1 + l/2 ≤ ρ_l ≤ 1 + 3l/2 (l = blocks applied).
     */
    public static double[] lemma2Normalised(double[] meanSquare) {
        double[] rho = new double[meanSquare.length];
        for (int l = 0; l < rho.length; l++) {
            rho[l] = 1 + meanSquare[l] - meanSquare[0];
        }
        return rho;
    }

    /** Lemma 2's lower bound 1 + l/2 on ‖x_l‖²/d for pre-LN after l blocks (unit-variance input). */
    public static double lemma2Lower(int l) {
        return 1 + l / 2.0;
    }

    /** Lemma 2's upper bound 1 + 3l/2. */
    public static double lemma2Upper(int l) {
        return 1 + 1.5 * l;
    }

    /**
     * The ODE view of a stack (each block a small step of the state): with x_l the stream entering block l and
     * u_l = x_{l+1} − x_l its update, per position, {@code relativeUpdate[l]} = mean over rows of ‖u_l‖/‖x_l‖
     * (l = 0..L−1) and {@code cosine[l]} = mean over rows of cos(u_l, u_{l+1}) (l = 0..L−2). Small, aligned
     * steps (relative update ≪ 1, cosine near 1) are what a discretised smooth flow looks like.
     */
    public record BlockSteps(double[] relativeUpdate, double[] cosine) {
    }

    /** {@link BlockSteps} of the model's last forward over {@code rows} positions. */
    public static BlockSteps blockSteps(GPT model, int rows) {
        int L = model.config.nLayer(), C = model.config.nEmbd();
        double[] rel = new double[L], cos = new double[Math.max(0, L - 1)];
        float[] u = new float[rows * C], next = new float[rows * C];
        update(model, 0, rows, C, u);
        for (int l = 0; l < L; l++) {
            float[] x = model.residualStream(l);
            if (l + 1 < L) {
                update(model, l + 1, rows, C, next);
            }
            double relSum = 0, cosSum = 0;
            for (int r = 0; r < rows; r++) {
                int o = r * C;
                double xx = Vec.sumSquares(x, o, C), uu = Vec.sumSquares(u, o, C);
                relSum += xx > 0 ? Math.sqrt(uu / xx) : 0;
                if (l + 1 < L) {
                    double dot = 0, nn = Vec.sumSquares(next, o, C);
                    for (int i = o; i < o + C; i++) {
                        dot += (double) u[i] * next[i];
                    }
                    cosSum += uu > 0 && nn > 0 ? dot / Math.sqrt(uu * nn) : 0;
                }
            }
            rel[l] = relSum / rows;
            if (l + 1 < L) {
                cos[l] = cosSum / rows;
                float[] t = u;
                u = next;
                next = t;
            }
        }
        return new BlockSteps(rel, cos);
    }

    /** u = x_{l+1} − x_l over the first rows·C floats. */
    private static void update(GPT model, int l, int rows, int C, float[] u) {
        float[] a = model.residualStream(l), b = model.residualStream(l + 1);
        for (int i = 0; i < rows * C; i++) {
            u[i] = b[i] - a[i];
        }
    }

    /** Root-mean-square of a − b over the first n elements. */
    public static double rmsDifference(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s / n);
    }

    /**
     * A fixed probe batch and the logits F(θ_ref) on it; {@link #distance} is the model-update size
     * ‖F(θ) − F(θ_ref)‖ as the RMS over all B·T·V logits (comparable across widths and batch sizes).
     */
    public static final class UpdateProbe {
        private final int[] tokens;
        private final int B, T, n;
        private final float[] reference;

        public UpdateProbe(GPT model, int[] tokens, int B, int T) {
            this.tokens = tokens.clone();
            this.B = B;
            this.T = T;
            this.n = B * T * model.config.vocabSize();
            this.reference = model.logits(this.tokens, B, T).clone();
        }

        /** Runs a forward pass on the probe batch (overwrites the model's activations). */
        public double distance(GPT model) {
            return rmsDifference(model.logits(tokens, B, T), reference, n);
        }
    }

    /**
     * Output sensitivity: adds an independent ±eps (random sign) to every parameter, returns the RMS
     * change of the logits on the batch, and restores the weights exactly. The perturbation is drawn from
     * {@code seed}, so two models of the same shape see the same signs.
     */
    public static double perturbationSensitivity(GPT model, int[] tokens, int B, int T, double eps, long seed) {
        int n = B * T * model.config.vocabSize();
        float[] before = model.logits(tokens, B, T).clone();
        List<Param> ps = model.parameters();
        float[][] saved = new float[ps.size()][];
        SplittableRandom rng = new SplittableRandom(seed);
        float e = (float) eps;
        for (int k = 0; k < ps.size(); k++) {
            float[] d = ps.get(k).data;
            saved[k] = d.clone();
            for (int i = 0; i < d.length; i++) {
                d[i] += rng.nextBoolean() ? e : -e;
            }
        }
        try {
            return rmsDifference(model.logits(tokens, B, T), before, n);
        } finally {
            for (int k = 0; k < ps.size(); k++) {
                System.arraycopy(saved[k], 0, ps.get(k).data, 0, saved[k].length);
            }
        }
    }

    /** Gradients, residual sizes and block steps of one step, for logs (`jgpt train --diagnostics`) and the study. */
    public record Snapshot(int step, double loss, LayerGradients gradients, double[] residualMeanSquare, BlockSteps steps) {
        /** One line: loss, global gradient norm, per-block gradient norms and the residual RMS per block. */
        public String summary() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d loss %.4f grad %.3g | block grad",
                    step, loss, gradients.total()));
            for (double g : gradients.block()) {
                sb.append(String.format(Locale.ROOT, " %.3g", g));
            }
            sb.append(" | residual rms");
            for (int l = 1; l < residualMeanSquare.length; l++) {
                sb.append(String.format(Locale.ROOT, " %.3g", Math.sqrt(residualMeanSquare[l])));
            }
            sb.append(" | step");
            for (double r : steps.relativeUpdate()) {
                sb.append(String.format(Locale.ROOT, " %.3g", r));
            }
            return sb.toString();
        }
    }

    /** Gradients and residual sizes right after {@code model.lossAndBackward(tokens, ..., B, T)}. */
    public static Snapshot snapshot(GPT model, int step, double loss, int[] tokens, int B, int T) {
        return new Snapshot(step, loss, gradients(model), residualMeanSquare(model, tokens, B, T), blockSteps(model, B * T));
    }
}
