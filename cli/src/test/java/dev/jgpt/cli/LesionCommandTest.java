package dev.jgpt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LesionCommandTest {
    @TempDir
    Path tmp;

    private Path trainedModel() {
        Path run = tmp.resolve("run");
        CliRun t = CliRun.run("train", "--data", CliRun.SHAKESPEARE.toString(), "--layers", "3", "--heads", "2",
                "--embd", "16", "--block", "16", "--batch", "4", "--iters", "4", "--eval-interval", "4",
                "--eval-iters", "1", "--threads", "2", "--samples", "0", "--layer-drop", "0.25", "--out", run.toString());
        assertEquals(0, t.exit(), t.err());
        return run;
    }

    @Test
    void lesionsATrainedModelOnItsOwnValidationSplit() throws Exception {
        Path run = trainedModel();
        Path out = tmp.resolve("lesion");
        CliRun r = CliRun.run("lesion", "--model", run.toString(), "--out", out.toString(), "--tokens", "2000",
                "--draws", "2", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("on the validation split of its training data"), r.out());
        assertTrue(r.out().contains("deleting one block: 1: "), r.out());
        List<String> lines = Files.readAllLines(out.resolve("lesion.jsonl"));
        assertEquals(1, lines.size());
        JsonNode rec = new ObjectMapper().readTree(lines.get(0));
        assertEquals("pre-ln", rec.get("layout").asText());
        assertEquals(3, rec.get("depth").asInt());
        assertEquals(0.25, rec.get("layerDrop").asDouble(), "the rate the model trained with");
        JsonNode lesion = rec.get("lesion");
        assertEquals(3, lesion.get("single").size());
        assertEquals(4, lesion.get("byK").size(), "k = 0..3");
        assertEquals(2, lesion.get("byK").get(1).get("losses").size(), "2 draws of the 3 single deletions");
        assertEquals(1, lesion.get("byK").get(3).get("losses").size());
        assertTrue(lesion.get("reference").asDouble() > 3, "the unigram loss of tiny Shakespeare's characters");
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("## Deleting one block") && report.contains("deleted block is the identity"), report);
        for (String plot : List.of("lesion-single", "lesion-vs-k")) {
            for (String ext : List.of(".png", ".svg")) {
                assertTrue(Files.size(out.resolve(plot + ext)) > 1000, plot + ext);
            }
        }

        // a .bin token file is used whole, with its own frequencies as the reference
        Path bin = tmp.resolve("prepared");
        assertEquals(0, CliRun.run("prepare", "--data", CliRun.SHAKESPEARE.toString(), "--tokenizer", "char",
                "--out", bin.toString()).exit());
        CliRun onBin = CliRun.run("lesion", "--model", run.toString(), "--data", bin.resolve("val.bin").toString(),
                "--out", tmp.resolve("lesion-bin").toString(), "--tokens", "1000", "--draws", "1");
        assertEquals(0, onBin.exit(), onBin.err());
        assertTrue(onBin.out().contains("entropy of the evaluated tokens' own frequencies"), onBin.out());
    }

    @Test
    void badInputIsOneClearError() throws Exception {
        Path out = tmp.resolve("o");
        assertTrue(CliRun.run("lesion", "--model", tmp.resolve("missing").toString(), "--out", out.toString())
                .failedWith("no such model directory"));
        Path run = trainedModel();
        assertTrue(CliRun.run("lesion", "--model", run.toString(), "--data", tmp.resolve("nope.txt").toString(),
                "--out", out.toString()).failedWith("no such data file"));
        assertTrue(CliRun.run("lesion", "--model", run.toString(), "--draws", "0", "--out", out.toString())
                .failedWith("--draws must be at least 1"));
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertTrue(CliRun.run("lesion", "--model", run.toString(), "--out", file.toString())
                .failedWith("is a file, not a directory"));
        assertEquals("x", Files.readString(file), "left as it was");
        // a model directory alone (no train_state/) does not say what it was trained on
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(run.resolve(f), bare.resolve(f));
        }
        assertTrue(CliRun.run("lesion", "--model", bare.toString(), "--out", out.toString())
                .failedWith("--data is needed"));
    }
}
