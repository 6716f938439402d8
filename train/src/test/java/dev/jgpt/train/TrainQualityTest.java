package dev.jgpt.train;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shortened baby run on tiny Shakespeare (char-level) must learn well beyond letter frequencies.
 *
 * <p>Reference points for the val loss (nats/char): an untrained model ≈ ln 65 = 4.17; the unigram
 * (letter-frequency) model ≈ 3.3; the full 2000-step baby run ≈ 1.88. This run is the baby model and
 * optimizer cut to 200 steps (the cosine decays over those 200), scored on 10 fixed val batches.
 * Measured here: val 2.43–2.47 over seeds 1337, 1, 2, 3 (train 2.43–2.46). The bound 2.6 sits
 * ~0.15 above that and ~0.7 below the unigram loss: a model that only learned letter frequencies, or a
 * broken optimizer (no bias correction, decay on norms, wrong targets), lands well above it.
 */
class TrainQualityTest {
    @Test
    @Tag("slow") // trains for seconds: -DexcludedGroups=slow leaves it out
    void shortBabyRunBeatsTheUnigramModelClearly() throws IOException {
        Path text = SharedData.shakespeare();
        TrainConfig cfg = TrainConfig.preset(TrainConfig.BABY).toBuilder().data(text.toString())
                .iters(200).evalInterval(200).evalIters(10).samples(0).build();
        Trainer.Result r;
        try (TrainData data = TrainData.load(cfg.data(), null); Trainer t = Trainer.start(cfg, data, null, false)) {
            assertTrue(data.tokenizer.vocabSize() == 65, "tiny Shakespeare has 65 characters");
            r = t.run(new Trainer.Listener() {
            });
        }
        System.out.printf("baby, 200 steps: train %.4f, val %.4f, %.0f tokens/s%n", r.trainLoss(), r.valLoss(), r.tokensPerS());
        assertTrue(r.valLoss() < 2.6, "val loss " + r.valLoss() + " after 200 baby steps; expected < 2.6");
        assertTrue(r.trainLoss() < 2.6, "train loss " + r.trainLoss());
    }
}
