package dev.jgpt.infer;

import java.util.ArrayList;
import java.util.List;

/**
 * How to generate: sampling settings, limits and stop conditions. Defaults follow llama.cpp
 * (temperature 0.8, top-k 40, top-p 0.95, penalty over the last 64 tokens).
 *
 * @param maxTokens       most tokens to generate (≥ 0)
 * @param temperature     ≥ 0; 0 is greedy (deterministic)
 * @param topK            ≥ 0; 0 = off
 * @param topP            in (0, 1]; 1 = off
 * @param repeatPenalty   &gt; 0; 1 = off (see {@link Sampler})
 * @param repeatLastN     how many recent tokens (prompt included) the penalty looks at; −1 = the
 *                        whole context, 0 = none
 * @param seed            seeds the sampler: the same seed, prompt and options give the same tokens
 * @param stop            generation ends when the text contains one of these; the stop string
 *                        itself is not returned or streamed
 * @param stopAtEndOfText end at the tokenizer's end-of-text token (not returned or streamed)
 * @param stopTokens      more ids that end generation as the end-of-text token does, when
 *                        {@code stopAtEndOfText} (a model's eos ids from {@code generation_config.json},
 *                        a chat template's end-of-turn token such as {@code <|im_end|>})
 * @param overflow        what to do when the context is full
 */
public record GenerationOptions(int maxTokens, float temperature, int topK, float topP,
                                float repeatPenalty, int repeatLastN, long seed, List<String> stop,
                                boolean stopAtEndOfText, List<Integer> stopTokens, Overflow overflow) {

    /** What happens when generation reaches the end of the model's context. */
    public enum Overflow {
        /** Stop with {@link StopReason#CONTEXT_FULL} (the default). */
        STOP,
        /**
         * Keep the most recent half of the context, re-run it as a fresh prompt (the model has
         * learned absolute positions, so the cache cannot be shifted) and continue. Costs one
         * prefill of half the context each time the window fills.
         */
        SLIDE
    }

    public GenerationOptions {
        require(maxTokens >= 0, "max tokens must be >= 0, got " + maxTokens);
        require(temperature >= 0f && !Float.isInfinite(temperature), "temperature must be a finite number >= 0, got " + temperature);
        require(topK >= 0, "top-k must be >= 0 (0 = off), got " + topK);
        require(topP > 0f && topP <= 1f, "top-p must be in (0, 1], got " + topP);
        require(repeatPenalty > 0f && !Float.isInfinite(repeatPenalty), "repeat penalty must be a finite number > 0, got " + repeatPenalty);
        require(repeatLastN >= -1, "repeat-last-n must be >= -1 (-1 = whole context), got " + repeatLastN);
        require(stop != null, "stop strings must not be null");
        require(overflow != null, "overflow policy must not be null");
        require(stopTokens != null, "stop tokens must not be null");
        stop = List.copyOf(stop);
        stopTokens = List.copyOf(stopTokens);
        for (int id : stopTokens) {
            require(id >= 0, "stop token ids must be >= 0, got " + id);
        }
        for (String s : stop) {
            require(!s.isEmpty(), "stop strings must not be empty");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("generation options: " + message);
        }
    }

    public static GenerationOptions defaults() {
        return builder().build();
    }

    /** Greedy decoding (temperature 0) of up to {@code maxTokens} tokens. */
    public static GenerationOptions greedy(int maxTokens) {
        return builder().temperature(0f).maxTokens(maxTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Sampler newSampler() {
        return new Sampler(temperature, topK, topP, repeatPenalty, seed);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxTokens = maxTokens;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.repeatPenalty = repeatPenalty;
        b.repeatLastN = repeatLastN;
        b.seed = seed;
        b.stop = new ArrayList<>(stop);
        b.stopAtEndOfText = stopAtEndOfText;
        b.stopTokens = new ArrayList<>(stopTokens);
        b.overflow = overflow;
        return b;
    }

    public static final class Builder {
        private int maxTokens = 256;
        private float temperature = 0.8f;
        private int topK = 40;
        private float topP = 0.95f;
        private float repeatPenalty = 1f;
        private int repeatLastN = 64;
        private long seed = 0;
        private List<String> stop = new ArrayList<>();
        private boolean stopAtEndOfText = true;
        private List<Integer> stopTokens = new ArrayList<>();
        private Overflow overflow = Overflow.STOP;

        public Builder maxTokens(int v) {
            maxTokens = v;
            return this;
        }

        public Builder temperature(float v) {
            temperature = v;
            return this;
        }

        public Builder topK(int v) {
            topK = v;
            return this;
        }

        public Builder topP(float v) {
            topP = v;
            return this;
        }

        public Builder repeatPenalty(float v) {
            repeatPenalty = v;
            return this;
        }

        public Builder repeatLastN(int v) {
            repeatLastN = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder stop(List<String> v) {
            stop = new ArrayList<>(v);
            return this;
        }

        public Builder addStop(String v) {
            stop.add(v);
            return this;
        }

        public Builder stopAtEndOfText(boolean v) {
            stopAtEndOfText = v;
            return this;
        }

        public Builder stopTokens(List<Integer> v) {
            stopTokens = new ArrayList<>(v);
            return this;
        }

        /** Adds ids to {@link #stopTokens}, each once. */
        public Builder addStopTokens(Iterable<Integer> ids) {
            for (int id : ids) {
                if (!stopTokens.contains(id)) {
                    stopTokens.add(id);
                }
            }
            return this;
        }

        public Builder overflow(Overflow v) {
            overflow = v;
            return this;
        }

        public GenerationOptions build() {
            return new GenerationOptions(maxTokens, temperature, topK, topP, repeatPenalty, repeatLastN, seed,
                    stop, stopAtEndOfText, stopTokens, overflow);
        }
    }
}
