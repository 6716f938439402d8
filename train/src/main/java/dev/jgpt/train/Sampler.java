package dev.jgpt.train;

import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Temperature sampling for the end-of-training samples, on the model's KV-cached
 * {@link InferenceSession}. When the context fills up, the cache restarts from the last half
 * context (cheaper than sliding one token at a time, and fine for a quick look at the model).
 */
public final class Sampler {
    private Sampler() {
    }

    /** Continues {@code prompt} by {@code maxNew} tokens; returns only the new ones. Deterministic for a seed. */
    public static int[] generate(GPT model, int[] prompt, int maxNew, double temperature, long seed) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("sample: the prompt is empty");
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("sample: temperature must be positive, got " + temperature);
        }
        model.setTraining(false);
        int T = model.config.blockSize();
        int[] all = Arrays.copyOf(prompt, prompt.length + maxNew);
        int n = prompt.length;
        InferenceSession session = new InferenceSession(model);
        float[] logits = session.append(Arrays.copyOfRange(prompt, Math.max(0, n - T), n));
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < maxNew; i++) {
            int next = draw(logits, temperature, rng);
            all[n++] = next;
            if (i == maxNew - 1) {
                break;
            }
            if (session.position() >= session.capacity()) {
                session.reset();
                int keep = Math.max(1, T / 2);
                logits = session.append(Arrays.copyOfRange(all, n - keep, n));
            } else {
                logits = session.append(next);
            }
        }
        return Arrays.copyOfRange(all, prompt.length, n);
    }

    /** A token drawn from softmax(logits / temperature). */
    static int draw(float[] logits, double temperature, SplittableRandom rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u < 0) {
                return i;
            }
        }
        return p.length - 1;
    }

    /** A prompt to start unconditional samples: {@link Tokenizer#startTokens()}, else token 0. */
    public static int[] startTokens(Tokenizer tokenizer) {
        int[] start = tokenizer.startTokens();
        return start.length > 0 ? start : new int[] {0};
    }
}
