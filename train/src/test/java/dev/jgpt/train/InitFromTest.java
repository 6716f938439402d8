package dev.jgpt.train;

import dev.jgpt.model.FeedForwardKind;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.Norm;
import dev.jgpt.model.Position;
import dev.jgpt.model.io.ModelDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code initFrom}: a run that starts from a model directory's weights (fine-tuning) rather than a new model. */
class InitFromTest {
    @TempDir
    Path tmp;

    /** A grouped-query Llama model (saved as LlamaForCausalLM, as a Hugging Face checkpoint) with the data's tokenizer. */
    static Path pretrained(Path dir, TrainData data, int vocab) throws IOException {
        GPTConfig c = TinyRuns.config().toBuilder().norm(Norm.RMSNORM).position(Position.ROPE).mlp(FeedForwardKind.SWIGLU)
                .bias(false).nKvHead(1).dropout(0f).build().modelConfig(vocab);
        ModelDir.save(new GPT(c, 5), dir);
        data.tokenizer.save(dir.resolve(ModelDir.TOKENIZER));
        return dir;
    }

    @Test
    void aRunStartsFromTheModelsWeightsKeepsItsShapeAndResumes() throws IOException {
        TrainData data = TinyRuns.data();
        Path init = pretrained(tmp.resolve("init"), data, data.tokenizer.vocabSize());
        GPT original = ModelDir.load(init);
        assertEquals(Family.LLAMA, original.config.family());
        // the shape fields of the config (a preset's) are not the model's: the directory's config.json is
        TrainConfig cfg = TinyRuns.config().toBuilder().nLayer(3).nEmbd(48).initFrom(init.toString()).build();
        Path out = tmp.resolve("run");
        try (Trainer t = Trainer.start(cfg, data, out, false)) {
            assertEquals(original.config.toBuilder().dropout(cfg.dropout()).build(), t.model().config);
            List<float[]> before = t.model().parameters().stream().map(p -> p.data.clone()).toList();
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(original.parameters().get(i).data, before.get(i), original.parameters().get(i).name);
            }
            Trainer.Result r = t.run(new Trainer.Listener() {});
            assertTrue(Double.isFinite(r.valLoss()), "val loss " + r.valLoss());
            assertNotEquals(before.getFirst()[0], t.model().parameters().getFirst().data[0], 0f, "the weights were trained");
        }
        GPT tuned = ModelDir.load(out);
        assertEquals(original.config.toBuilder().dropout(cfg.dropout()).build(), tuned.config, "saved in the model's own layout");
        assertEquals(Path.of(init.toString()).toAbsolutePath().normalize().toString(),
                Checkpoint.readState(out).orElseThrow().config().initFrom(), "recorded in the train state");
        try (Trainer t = Trainer.resume(out, data, c -> c.toBuilder().iters(12).build())) {
            assertEquals(8, t.currentStep());
            assertEquals(12, t.run(new Trainer.Listener() {}).steps());
        }
    }

    @Test
    void aModelThatDoesNotFitTheRunIsRefusedBeforeTheRunDirectoryIsTouched() throws IOException {
        TrainData data = TinyRuns.data();
        Path out = tmp.resolve("run");
        Path fewerIds = pretrained(tmp.resolve("fewer-ids"), data, data.tokenizer.vocabSize() - 1);
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(
                TinyRuns.config().toBuilder().initFrom(fewerIds.toString()).build(), data, out, false));
        assertEquals("--init-from " + fewerIds.toAbsolutePath() + ": the model has " + (data.tokenizer.vocabSize() - 1)
                + " token ids but the data's tokenizer has " + data.tokenizer.vocabSize()
                + " (train with the model's own tokenizer.json)", e.getMessage());

        Path init = pretrained(tmp.resolve("init"), data, data.tokenizer.vocabSize());
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(
                TinyRuns.config().toBuilder().blockSize(17).initFrom(init.toString()).build(), data, out, false));
        assertEquals("--block 17 is longer than the context of the --init-from model (16 positions in "
                + init.toAbsolutePath().resolve("config.json") + ")", e.getMessage());

        Path missing = tmp.resolve("missing");
        assertThrows(IOException.class, () -> Trainer.start(
                TinyRuns.config().toBuilder().initFrom(missing.toString()).build(), data, out, false));
        assertFalse(Files.exists(out), "nothing written");
    }
}
