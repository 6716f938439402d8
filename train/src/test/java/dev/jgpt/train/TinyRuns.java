package dev.jgpt.train;

import dev.jgpt.tokenizer.CharTokenizer;

import java.nio.file.Path;
import java.util.SplittableRandom;

/** Tiny models and data for fast trainer tests. */
final class TinyRuns {
    private TinyRuns() {
    }

    /** A learnable toy corpus: random words from a small list, so the loss has somewhere to go. */
    static TrainData data() {
        String[] words = {"to", "be", "or", "not", "that", "is", "the", "question", "whether", "tis", "nobler"};
        SplittableRandom r = new SplittableRandom(3);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 6000) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        }
        String text = sb.toString();
        CharTokenizer tok = CharTokenizer.fromText(text);
        int split = text.length() * 9 / 10;
        return TrainData.of(tok, tok.encode(text.substring(0, split)), tok.encode(text.substring(split)), "toy");
    }

    /** A 2-layer, 32-wide model with dropout and gradient accumulation on, so every path is exercised. */
    static TrainConfig config() {
        return new TrainConfig.Builder().nLayer(2).nHead(2).nEmbd(32).blockSize(16).batchSize(4)
                .iters(8).lrDecayIters(8).warmup(2).lr(3e-3).minLr(3e-4).dropout(0.1f).gradAccum(2)
                .evalInterval(4).evalIters(2).threads(2).seed(11).samples(1).sampleTokens(20).build();
    }

}
