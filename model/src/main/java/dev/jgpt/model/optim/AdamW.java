package dev.jgpt.model.optim;

import dev.jgpt.kernel.GradNorm;
import dev.jgpt.kernel.Vec;
import dev.jgpt.model.Param;
import dev.jgpt.model.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The AdamW optimiser (Loshchilov &amp; Hutter) over a list of parameters: first and second moments per
 * parameter, the step count for the bias correction, and decoupled weight decay on the parameters of
 * two or more dimensions only ({@link Param#decays}, nanoGPT's groups). The update itself is the
 * kernel's {@link dev.jgpt.kernel.AdamW}. Gradient clipping and averaging live here too, so every
 * training loop does them the same way.
 *
 * <p>Its state is saved as safetensors ({@code exp_avg.NAME}, {@code exp_avg_sq.NAME}, PyTorch's names,
 * and the step count in the metadata) and loaded back bit for bit.
 */
public final class AdamW {
    private final List<Param> params;
    private final List<float[]> grads;
    private final float[][] m, v;
    /** The parameters' values, gradients and weight decays as the kernel takes them (one pass for the model). */
    private final float[][] data, gradArrays;
    private final float[] decay;
    private final float beta1, beta2, eps, weightDecay;
    private int steps;

    public AdamW(List<Param> params, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW: need 0 <= beta1, beta2 < 1, eps > 0, weight decay >= 0; got "
                    + beta1 + ", " + beta2 + ", " + eps + ", " + weightDecay);
        }
        this.params = List.copyOf(params);
        this.grads = this.params.stream().map(Param::grad).toList();
        this.m = new float[this.params.size()][];
        this.v = new float[this.params.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[this.params.get(i).size()];
            v[i] = new float[this.params.get(i).size()];
        }
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.data = this.params.stream().map(p -> p.data).toArray(float[][]::new);
        this.gradArrays = grads.toArray(float[][]::new);
        this.decay = new float[this.params.size()];
        for (int i = 0; i < decay.length; i++) {
            decay[i] = this.params.get(i).decays() ? this.weightDecay : 0f;
        }
    }

    /** Updates every parameter from the gradient it holds, with learning rate {@code lr}. */
    public void step(double lr) {
        writeZeroGradients();
        steps++;
        dev.jgpt.kernel.AdamW.update(data, gradArrays, m, v, decay, (float) lr, beta1, beta2, eps, steps);
    }

    /** The first moment (exp_avg) of the i-th parameter, live. */
    public float[] firstMoment(int i) {
        return m[i];
    }

    /** The second moment (exp_avg_sq) of the i-th parameter, live. */
    public float[] secondMoment(int i) {
        return v[i];
    }

    /** Updates taken so far (the bias correction's t). */
    public int steps() {
        return steps;
    }

    /**
     * Sets the step count of a state whose moments were copied in through {@link #firstMoment} and
     * {@link #secondMoment} (a data-parallel worker's state moved between processes).
     */
    public void setSteps(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("AdamW: steps must be >= 0, got " + steps);
        }
        this.steps = steps;
    }

    /** The global L2 norm of the gradients (NaN or ∞ if any gradient is). */
    public double gradientNorm() {
        writeZeroGradients();
        return GradNorm.globalNorm(grads);
    }

    /**
     * Scales the gradients so their global norm is at most {@code maxNorm} (PyTorch's clip_grad_norm_;
     * {@code maxNorm} ≤ 0: no clipping) and returns the norm before clipping.
     */
    public double clipGradients(double maxNorm) {
        writeZeroGradients();
        return maxNorm > 0 ? GradNorm.clip(grads, maxNorm) : GradNorm.globalNorm(grads);
    }

    /** Multiplies every gradient by {@code factor} (averaging micro-batches). */
    public void scaleGradients(float factor) {
        writeZeroGradients();
        for (float[] g : grads) {
            Vec.scale(g, factor, g.length);
        }
    }

    /**
     * This optimiser reads the gradients' arrays directly: one zeroed lazily ({@link Param#zeroGrad}) and not written
     * since (a block LayerDrop skipped) still holds old values until {@link Param#grad} writes its zeros.
     */
    private void writeZeroGradients() {
        for (Param p : params) {
            p.grad();
        }
    }

    /** Writes the moments and the step count to a safetensors file (atomically). */
    public void save(Path file) throws IOException {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            tensors.put("exp_avg." + p.name, new SafeTensors.Tensor("exp_avg." + p.name, p.shape, m[i]));
            tensors.put("exp_avg_sq." + p.name, new SafeTensors.Tensor("exp_avg_sq." + p.name, p.shape, v[i]));
        }
        SafeTensors.write(file, tensors, Map.of("step", Integer.toString(steps)));
    }

    /** Replaces this optimiser's state with the one saved in {@code file}; each mismatch is one clear error. */
    public void load(Path file) throws IOException {
        SafeTensors.Contents saved = SafeTensors.readWithMetadata(file);
        String step = saved.metadata().get("step");
        int t;
        try {
            t = Integer.parseInt(step);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": the optimizer's step count (metadata \"step\") is " + step + ", not a number");
        }
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            System.arraycopy(moment(file, saved.tensors(), "exp_avg." + p.name, p), 0, m[i], 0, p.size());
            System.arraycopy(moment(file, saved.tensors(), "exp_avg_sq." + p.name, p), 0, v[i], 0, p.size());
        }
        steps = t;
    }

    private static float[] moment(Path file, Map<String, SafeTensors.Tensor> tensors, String name, Param p)
            throws IOException {
        SafeTensors.Tensor t = tensors.get(name);
        if (t == null) {
            throw new IOException(file + ": missing optimizer tensor " + name);
        }
        if (!Arrays.equals(t.shape(), p.shape)) {
            throw new IOException(file + ": optimizer tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", the model's " + p.name + " is " + Arrays.toString(p.shape));
        }
        return t.data();
    }
}
