package dev.jgpt.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StabilityCommandTest {
    @Test
    @Tag("slow") // trains for seconds: -DexcludedGroups=slow leaves it out
    void runsATinyGridAndPointsAtTheReport(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stab");
        CliRun r = CliRun.run("stability", "--layouts", "post-ln,pre-ln", "--depths", "1", "--lrs", "1e-3", "--steps", "3", "--seeds", "1",
                "--inits", "xavier,gpt2", "--warmup", "off,on", "--probe-depths", "2", "--width", "32", "--batch", "2",
                "--layer-drops", "0,0.5", "--lesions", "2", "--landscape", "1",
                "--threads", "2", "--data", CliRun.SHAKESPEARE.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Report: " + out.resolve("report.md").toAbsolutePath()), r.out());
        assertTrue(r.out().contains("Claims:"), r.out());
        assertTrue(r.out().contains("[reproduced]") || r.out().contains("[not "), r.out());
        // The axes replace those of both parts of the quick preset (core and lesions; they differ in lr until --lrs is
        // given), which then ask for the same runs:
        // 2 layouts × 2 warmups × 2 inits × 2 LayerDrop rates, each lesioned, and 2 × 2 probes.
        assertEquals(2 * 2 * 2 * 2 + 2 * 2, Files.readAllLines(out.resolve("results.jsonl")).size());
        assertEquals(2 * 2 * 2 * 2, Files.readAllLines(out.resolve("lesion.jsonl")).size());
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Lesions"));
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Loss landscape"));
        // one pass/fail table per training regime: with and without LayerDrop
        for (String table : java.util.List.of("pass-fail-3-steps", "pass-fail-3-steps-layer-drop-0.5")) {
            assertTrue(Files.exists(out.resolve(table + ".png")) && Files.exists(out.resolve(table + ".svg")), table);
        }

        // --replot rewrites the report from results.jsonl without training
        Files.delete(out.resolve("report.md"));
        CliRun again = CliRun.run("stability", "--replot", "--out", out.toString());
        assertEquals(0, again.exit(), again.err());
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Claims"));
    }

    @Test
    void badAxisValuesFailWithOneClearLine(@TempDir Path dir) {
        assertTrue(CliRun.run("stability", "--warmup", "sometimes", "--out", dir.toString()).failedWith("--warmup"));
        assertTrue(CliRun.run("stability", "--layouts", "middle-ln", "--out", dir.toString()).failedWith("unknown residual layout"));
        assertTrue(CliRun.run("stability", "--preset", "huge", "--out", dir.toString()).failedWith("quick or paper"));
        assertTrue(CliRun.run("stability", "--seeds", "x", "--out", dir.toString()).failedWith("--seeds"));
        assertTrue(CliRun.run("stability", "--layer-drops", "1", "--out", dir.toString()).failedWith("--layer-drops must be in [0, 1)"));
        assertTrue(CliRun.run("stability", "--lesions", "-1", "--out", dir.toString()).failedWith("--lesions must be >= 0"));
        assertTrue(CliRun.run("stability", "--landscape", "-1", "--out", dir.toString()).failedWith("--landscape must be >= 0"));
        assertTrue(CliRun.run("stability", "--width", "30", "--heads", "4", "--out", dir.toString()).failedWith("multiple"));
        assertTrue(CliRun.run("stability", "--replot", "--out", dir.resolve("none").toString()).failedWith("not found"));
    }
}
