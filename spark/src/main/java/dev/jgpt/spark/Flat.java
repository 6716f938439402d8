package dev.jgpt.spark;

import dev.jgpt.model.Param;
import dev.jgpt.model.optim.AdamW;

import java.util.List;

/**
 * A model's weights, gradients or AdamW moments as one array in {@code GPT.parameters()} order: the form
 * in which they cross between driver and workers (one array serializes as its raw floats).
 */
final class Flat {
    private Flat() {
    }

    static int size(List<Param> params) {
        long n = 0;
        for (Param p : params) {
            n += p.size();
        }
        return Math.toIntExact(n);
    }

    static float[] weights(List<Param> params) {
        float[] flat = new float[size(params)];
        int at = 0;
        for (Param p : params) {
            System.arraycopy(p.data, 0, flat, at, p.size());
            at += p.size();
        }
        return flat;
    }

    static void setWeights(List<Param> params, float[] flat) {
        int at = 0;
        for (Param p : params) {
            System.arraycopy(flat, at, p.data, 0, p.size());
            at += p.size();
        }
    }

    static float[] grads(List<Param> params) {
        float[] flat = new float[size(params)];
        int at = 0;
        for (Param p : params) {
            System.arraycopy(p.grad(), 0, flat, at, p.size());
            at += p.size();
        }
        return flat;
    }

    static void setGrads(List<Param> params, float[] flat) {
        int at = 0;
        for (Param p : params) {
            System.arraycopy(flat, at, p.grad(), 0, p.size());
            at += p.size();
        }
    }

    /** The first ({@code second} false) or second moments of {@code optimizer} over {@code params}. */
    static float[] moments(AdamW optimizer, List<Param> params, boolean second) {
        float[] flat = new float[size(params)];
        int at = 0;
        for (int i = 0; i < params.size(); i++) {
            float[] m = second ? optimizer.secondMoment(i) : optimizer.firstMoment(i);
            System.arraycopy(m, 0, flat, at, m.length);
            at += m.length;
        }
        return flat;
    }

    static void setMoments(AdamW optimizer, List<Param> params, boolean second, float[] flat) {
        int at = 0;
        for (int i = 0; i < params.size(); i++) {
            float[] m = second ? optimizer.secondMoment(i) : optimizer.firstMoment(i);
            System.arraycopy(flat, at, m, 0, m.length);
            at += m.length;
        }
    }
}
