package dev.jgpt.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunDirectoryTest {
    @TempDir
    Path tmp;

    /** Every file under {@code dir} with its content: a run is "intact" when this does not change. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return files;
    }

    /** A finished 4-step run in {@code dir}, plus a file of the user's own beside it. */
    private static Path oldRun(Path dir) throws IOException {
        try (Trainer t = Trainer.start(TinyRuns.config().toBuilder().iters(4).build(), TinyRuns.data(), dir, false)) {
            t.run(new Trainer.Listener() {});
        }
        Files.writeString(dir.resolve("notes.txt"), "my notes on this run");
        return dir;
    }

    @Test
    void aFolderWithOtherFilesIsRefusedAndLeftAlone() throws IOException {
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(mine.resolve("config.json"), "{\"mine\": true}");
        Files.writeString(mine.resolve("metrics.jsonl"), "{\"step\": 0}\n");
        Map<String, String> before = snapshot(mine);
        for (boolean overwrite : new boolean[] {false, true}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.start(TinyRuns.config(), TinyRuns.data(), mine, overwrite));
            assertTrue(e.getMessage().contains("--out " + mine + " is not empty and holds no jgpt run (it has config.json"),
                    e.getMessage());
        }
        assertEquals(before, snapshot(mine));

        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        var e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.check(file, true));
        assertTrue(e.getMessage().contains("is a file, not a folder"), e.getMessage());
    }

    @Test
    void leftoversOfARunKilledBeforeItsFirstCheckpointDoNotBlockANewRun() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("killed"));
        Files.writeString(out.resolve(MetricsLog.FILE_NAME), "{\"step\": 0}\n");
        Files.createDirectories(out.resolve(Checkpoint.STAGING)).resolve("model.safetensors").toFile().createNewFile();
        Files.writeString(out.resolve(".metrics.jsonl.k3j2.tmp"), "");
        try (Trainer t = Trainer.start(TinyRuns.config().toBuilder().iters(4).build(), TinyRuns.data(), out, false)) {
            t.run(new Trainer.Listener() {});
        }
        assertEquals(List.of(0, 4), new MetricsLog(out).read().stream().map(MetricsLog.Point::step).toList());
    }

    @Test
    void anOverwriteThatNeverCheckpointsPutsTheOldRunBack() throws IOException {
        Path out = oldRun(tmp.resolve("run"));
        Map<String, String> before = snapshot(out);
        try (Trainer t = Trainer.start(TinyRuns.config(), TinyRuns.data(), out, true)) {
            assertTrue(Files.isDirectory(out.resolve(RunDirectory.ASIDE)), "the old run waits aside");
            assertFalse(Files.exists(out.resolve("train_state")));
            t.step();   // the new run fails before its first checkpoint (here: it just ends)
        }
        assertEquals(before, snapshot(out), "the old run is back, byte for byte");
        assertEquals(4, Checkpoint.readState(out).orElseThrow().step());
    }

    @Test
    void theFirstCheckpointOfTheNewRunReplacesTheOldOne() throws IOException {
        Path out = oldRun(tmp.resolve("run"));
        try (Trainer t = Trainer.start(TinyRuns.config().toBuilder().iters(2).evalInterval(1).build(),
                TinyRuns.data(), out, true)) {
            t.checkpoint();
            assertFalse(Files.exists(out.resolve(RunDirectory.ASIDE)), "gone with the new run's first checkpoint");
            assertEquals(0, Checkpoint.readState(out).orElseThrow().step());
        }
        assertEquals(0, Checkpoint.readState(out).orElseThrow().step(), "a new run with a checkpoint stays");
        assertEquals("my notes on this run", Files.readString(out.resolve("notes.txt")), "files not of the run stay");
    }

    @Test
    void aFailedStartInANewFolderLeavesNoFolder() throws IOException {
        Path out = tmp.resolve("new");
        TrainData tooSmall = TrainData.of(TinyRuns.data().tokenizer, new int[] {1, 2, 3}, new int[] {1, 2, 3}, "tiny");
        assertThrows(IllegalArgumentException.class, () -> Trainer.start(TinyRuns.config(), tooSmall, out, false));
        assertFalse(Files.exists(out));
        try (Trainer t = Trainer.start(TinyRuns.config(), TinyRuns.data(), out, false)) {
            assertTrue(Files.isDirectory(out));
            t.step();
        }
        assertFalse(Files.exists(out), "a run that ends before its first checkpoint leaves nothing behind");
    }

    /** A kill -9 at each point of a replacement: settle() always ends with exactly one whole run. */
    @Test
    void settleFinishesWhateverAKillInterrupted() throws IOException {
        Path template = oldRun(tmp.resolve("template"));
        Map<String, String> old = snapshot(template);

        // Killed while moving the old run aside: it goes back where it was.
        Path a = copy(template, tmp.resolve("a"));
        Path partial = Files.createDirectories(a.resolve(RunDirectory.ASIDE_PARTIAL));
        Files.move(a.resolve("config.json"), partial.resolve("config.json"));
        Files.move(a.resolve("train_state"), partial.resolve("train_state"));
        RunDirectory.settle(a);
        assertEquals(old, snapshot(a));

        // Killed while the new run was starting (no checkpoint yet): the old run comes back.
        Path b = copy(template, tmp.resolve("b"));
        Path aside = Files.createDirectories(b.resolve(RunDirectory.ASIDE));
        for (String name : List.of("config.json", "model.safetensors", "tokenizer.json", "train_state",
                "metrics.jsonl", "loss.png", "samples.txt")) {
            Files.move(b.resolve(name), aside.resolve(name));
        }
        Files.writeString(b.resolve("metrics.jsonl"), "{\"step\": 0}\n");   // the new run's first line
        Files.createDirectories(b.resolve(Checkpoint.STAGING));
        Checkpoint.load(b);   // --resume settles first
        assertEquals(old, snapshot(b));

        // Killed while restoring: the restore completes.
        Path c = copy(template, tmp.resolve("c"));
        Path restoring = Files.createDirectories(c.resolve(RunDirectory.RESTORING));
        Files.move(c.resolve("model.safetensors"), restoring.resolve("model.safetensors"));
        Files.move(c.resolve("train_state"), restoring.resolve("train_state"));
        RunDirectory.settle(c);
        assertEquals(old, snapshot(c));

        // Killed after the new run's first checkpoint committed: the new run stays, the old one goes.
        Path d = copy(template, tmp.resolve("d"));
        Path asideD = Files.createDirectories(d.resolve(RunDirectory.ASIDE));
        Files.writeString(asideD.resolve("metrics.jsonl"), "old");
        RunDirectory.settle(d);
        assertFalse(Files.exists(asideD));
        assertEquals(old, snapshot(d));
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
        return to;
    }
}
