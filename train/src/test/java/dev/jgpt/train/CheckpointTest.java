package dev.jgpt.train;

import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.model.io.ModelDir;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    @TempDir
    Path dir;

    @AfterEach
    void noCrash() {
        Checkpoint.crashAfterPhase = 0;
    }

    /** Saves a checkpoint whose weights, moments and step all encode {@code step}, so a mix-up shows. */
    private static void save(Path dir, TrainData data, int step) throws IOException {
        TrainConfig cfg = TinyRuns.config();
        GPT model = new GPT(cfg.modelConfig(data.tokenizer.vocabSize()), 1);
        List<Param> ps = model.parameters();
        AdamW opt = optimizer(model);
        for (int i = 0; i < ps.size(); i++) {
            ps.get(i).data[0] = step;
            opt.firstMoment(i)[0] = step + 0.5f;
            opt.secondMoment(i)[0] = step + 0.25f;
        }
        Checkpoint.save(dir, model, data.tokenizer, new TrainState(step, step * 1.5, cfg, data.info()), opt);
    }

    private static AdamW optimizer(GPT model) {
        return new AdamW(model.parameters(), 0.9, 0.99, 1e-8, 0.1);
    }

    private static int loadedStep(Path dir) throws IOException {
        Checkpoint.Loaded ck = Checkpoint.load(dir);
        int step = ck.state().step();
        AdamW opt = optimizer(ck.model());
        opt.load(ck.optimizerState());
        for (int i = 0; i < ck.model().parameters().size(); i++) {
            assertEquals(step, ck.model().parameters().get(i).data[0], "weights belong to the state's step");
            assertEquals(step + 0.5f, opt.firstMoment(i)[0], "first moment belongs to the state's step");
            assertEquals(step + 0.25f, opt.secondMoment(i)[0], "second moment belongs to the state's step");
        }
        return step;
    }

    @Test
    void roundTripIsExact() throws IOException {
        TrainData data = TinyRuns.data();
        save(dir, data, 3);
        Checkpoint.Loaded ck = Checkpoint.load(dir);
        assertEquals(3, ck.state().step());
        assertEquals(4.5, ck.state().elapsedS());
        assertEquals(TinyRuns.config(), ck.state().config());
        assertEquals(data.info(), ck.state().data());
        GPT fresh = new GPT(TinyRuns.config().modelConfig(data.tokenizer.vocabSize()), 1);
        for (int i = 0; i < fresh.parameters().size(); i++) {
            float[] expect = fresh.parameters().get(i).data.clone();
            expect[0] = 3;
            assertArrayEquals(expect, ck.model().parameters().get(i).data);
        }
        // The run directory is a model directory with its tokenizer.
        assertEquals(ck.model().config, ModelDir.load(dir).config);
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        assertFalse(Files.exists(dir.resolve(Checkpoint.STAGING)));
        assertFalse(Files.exists(dir.resolve(Checkpoint.READY)));
    }

    /** A kill before the commit keeps the old checkpoint; a kill after it gives the new one. */
    @Test
    void aKillAtAnyPhaseLeavesOneWholeCheckpoint() throws IOException {
        TrainData data = TinyRuns.data();
        int[] expected = {0, 1, 2, 2, 2}; // phase 1 is before the commit point
        for (int phase = 1; phase <= 4; phase++) {
            Path d = dir.resolve("phase" + phase);
            save(d, data, 1);
            Checkpoint.crashAfterPhase = phase;
            save(d, data, 2);
            Checkpoint.crashAfterPhase = 0;
            // The model directory is readable even before recovery.
            assertEquals(TinyRuns.config().nEmbd(), ModelDir.load(d).config.nEmbd(), "phase " + phase);
            assertEquals(expected[phase], loadedStep(d), "phase " + phase);
            assertFalse(Files.exists(d.resolve(Checkpoint.STAGING)));
            assertFalse(Files.exists(d.resolve(Checkpoint.READY)));
            assertFalse(Files.exists(d.resolve(Checkpoint.OLD_STATE)));
        }
    }

    @Test
    void tornStagingDirectoryIsIgnored() throws IOException {
        TrainData data = TinyRuns.data();
        save(dir, data, 5);
        Path staging = Files.createDirectories(dir.resolve(Checkpoint.STAGING).resolve(Checkpoint.STATE_DIR));
        Files.writeString(staging.resolve(Checkpoint.STATE), "{\"step\": 9");
        Files.write(dir.resolve(Checkpoint.STAGING).resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertEquals(5, loadedStep(dir));
    }

    @Test
    void missingOrCorruptStateIsAClearError() throws IOException {
        var missing = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
        assertTrue(missing.getMessage().contains("holds no training checkpoint"), missing.getMessage());
        save(dir, TinyRuns.data(), 1);
        Files.writeString(dir.resolve(Checkpoint.STATE_DIR).resolve(Checkpoint.STATE), "{\"format\": \"x\"}");
        var e = assertThrows(IOException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("not a jgpt train state"), e.getMessage());
    }
}
