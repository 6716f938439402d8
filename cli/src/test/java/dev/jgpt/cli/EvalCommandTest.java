package dev.jgpt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.model.Evaluation;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.TokenFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalCommandTest {
    static final String TEXT = "to be, or not to be: that is the question.\n";

    @Test
    void scoresTextAndTokenFilesAlike(@TempDir Path tmp) throws Exception {
        CharTokenizer tok = CharTokenizer.fromText(TEXT);
        GPT gpt = new GPT(GPTConfig.of(tok.vocabSize(), 8, 1, 2, 8), 5);
        Path model = tmp.resolve("model");
        ModelDir.save(gpt, model);
        tok.save(model.resolve("tokenizer.json"));
        Path text = Files.writeString(tmp.resolve("data.txt"), TEXT.repeat(3));
        int[] ids = tok.encode(TEXT.repeat(3));
        Path bin = tmp.resolve("data.bin");
        TokenFile.write(bin, ids);

        double expected = Evaluation.meanLoss(gpt, dev.jgpt.common.TokenSequence.of(ids)).loss();
        for (Path data : new Path[] {text, bin}) {
            CliRun r = CliRun.run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
            assertEquals(0, r.exit(), r.err());
            JsonNode json = new ObjectMapper().readTree(r.out());
            assertEquals(expected, json.get("loss").asDouble(), 1e-6, data.toString());
            assertEquals(ids.length - 1, json.get("tokens").asLong());
        }
        CliRun human = CliRun.run("eval", "--model", model.toString(), "--data", text.toString());
        assertTrue(human.out().startsWith("loss "), human.out());
    }

    @Test
    void badInputGivesOneClearErrorAndNonZeroExit(@TempDir Path tmp) throws Exception {
        CliRun noModel = CliRun.run("eval", "--model", tmp.resolve("nope").toString(), "--data", tmp.toString());
        assertNotEquals(0, noModel.exit());
        Path text = Files.writeString(tmp.resolve("t.txt"), "hello");
        CliRun missing = CliRun.run("eval", "--model", tmp.resolve("nope").toString(), "--data", text.toString());
        assertNotEquals(0, missing.exit());
        assertTrue(missing.err().contains("not a model directory"), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());

        CharTokenizer tok = CharTokenizer.fromText("abc");
        Path model = tmp.resolve("m");
        ModelDir.save(new GPT(GPTConfig.of(tok.vocabSize(), 8, 1, 1, 4), 1), model);
        tok.save(model.resolve("tokenizer.json"));
        Path unknown = Files.writeString(tmp.resolve("u.txt"), "abcz");
        CliRun unk = CliRun.run("eval", "--model", model.toString(), "--data", unknown.toString());
        assertNotEquals(0, unk.exit());
        assertTrue(unk.err().contains("'z'") || unk.err().contains("z"), unk.err());
        CliRun noData = CliRun.run("eval", "--model", model.toString());
        assertEquals(1, noData.exit());
        assertEquals("jgpt eval: error: --data is needed: " + model + " is not a jgpt training run (no "
                + "train_state/state.json), so it records no validation split", noData.err().strip());
        assertEquals(2, CliRun.run("eval", "--data", text.toString()).exit(), "missing --model is a usage error");
    }

    /** Without --data, a training run is scored on the validation split it recorded. */
    @Test
    void aRunIsScoredOnItsOwnValidationSplit(@TempDir Path tmp) throws Exception {
        Path prepared = tmp.resolve("data");
        assertEquals(0, CliRun.run("prepare", "--data", CliRun.SHAKESPEARE.toString(), "--out", prepared.toString()).exit());
        String text = TEXT.repeat(40);
        Path textFile = Files.writeString(tmp.resolve("text.txt"), text);
        Path valText = Files.writeString(tmp.resolve("val.txt"), text.substring((int) (text.length() * 0.9)));
        for (Path[] data : new Path[][] {{prepared, prepared.resolve("val.bin")}, {textFile, valText}}) {
            Path runDir = tmp.resolve("run-" + data[0].getFileName());
            CliRun trained = CliRun.run("train", "--data", data[0].toString(), "--layers", "1", "--heads", "1",
                    "--embd", "8", "--block", "8", "--batch", "2", "--iters", "1", "--eval-iters", "1",
                    "--samples", "0", "--out", runDir.toString());
            assertEquals(0, trained.exit(), trained.err());
            CliRun recorded = CliRun.run("eval", "--model", runDir.toString(), "--json");
            CliRun explicit = CliRun.run("eval", "--model", runDir.toString(), "--data", data[1].toString(), "--json");
            assertEquals(0, recorded.exit(), recorded.err());
            assertEquals(explicit.out(), recorded.out());
            assertTrue(recorded.err().contains("jgpt eval: the validation split of "), recorded.err());
        }
    }
}
