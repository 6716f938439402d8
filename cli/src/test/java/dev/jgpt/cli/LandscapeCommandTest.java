package dev.jgpt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.TokenFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LandscapeCommandTest {
    static final String TEXT = "to be, or not to be: that is the question.\n";

    @Test
    void writesTheSurfacesTheHessianAndThePlots(@TempDir Path tmp) throws Exception {
        CharTokenizer tok = CharTokenizer.fromText(TEXT);
        GPT gpt = new GPT(GPTConfig.of(tok.vocabSize(), 8, 2, 2, 8).withLayout(ResidualLayout.HIGHWAY), 5);
        Path model = tmp.resolve("model"), out = tmp.resolve("land");
        ModelDir.save(gpt, model);
        tok.save(model.resolve("tokenizer.json"));
        byte[] weights = Files.readAllBytes(model.resolve(ModelDir.WEIGHTS));
        Path bin = tmp.resolve("data.bin");
        TokenFile.write(bin, tok.encode(TEXT.repeat(4)));

        CliRun r = CliRun.run("landscape", "--model", model.toString(), "--data", bin.toString(), "--out", out.toString(),
                "--batches", "2", "--batch-size", "3", "--points", "7", "--plane-points", "5", "--eigen-iterations", "5",
                "--threads", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Hessian: λ_max"), r.out());
        Map<String, JsonNode> records = new TreeMap<>();
        for (String line : Files.readAllLines(out.resolve("landscape.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            records.put(n.get("kind").asText(), n);
        }
        assertEquals(List.of("hessian", "line", "model", "plane", "steps"), List.copyOf(records.keySet()));
        assertEquals(2, records.get("steps").get("relative_update").size());
        JsonNode head = records.get("model"), line = records.get("line"), plane = records.get("plane");
        assertEquals("highway", head.get("layout").asText());
        assertEquals(gpt.parameterCount(), head.get("parameters").asLong());
        // α = 0 is the weights themselves, on the line and at the plane's centre
        assertEquals(0, line.get("alpha").get(3).asDouble());
        assertEquals(head.get("loss").asDouble(), line.get("loss").get(3).asDouble(), 1e-6);
        assertEquals(head.get("loss").asDouble(), plane.get("loss").get(2).get(2).asDouble(), 1e-6);
        assertEquals(5, plane.get("loss").size());
        assertTrue(records.get("hessian").get("lambda_max").asDouble() >= records.get("hessian").get("lambda_min").asDouble());
        for (String f : new String[] {"report.md", "landscape-1d.png", "landscape-1d.svg", "landscape-2d.png", "landscape-2d.svg", "block-steps.png", "block-steps.svg"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertArrayEquals(weights, Files.readAllBytes(model.resolve(ModelDir.WEIGHTS)), "the model is only read");

        // at init: the saved model is seed 5's initialisation, so --at-init 5 finds the same loss and 6 another
        double[] atInit = new double[2];
        for (int k = 0; k < 2; k++) {
            Path o = tmp.resolve("init" + k);
            CliRun i = CliRun.run("landscape", "--model", model.toString(), "--data", bin.toString(), "--out", o.toString(),
                    "--batches", "2", "--batch-size", "3", "--points", "3", "--plane-points", "0",
                    "--at-init", Integer.toString(5 + k), "--threads", "1", "--eigen-iterations", "2", "--largest-only");
            assertEquals(0, i.exit(), i.err());
            JsonNode h = new ObjectMapper().readTree(Files.readAllLines(o.resolve("landscape.jsonl")).get(0));
            assertEquals("init seed " + (5 + k), h.get("weights").asText());
            atInit[k] = h.get("loss").asDouble();
            JsonNode hessian = new ObjectMapper().readTree(Files.readAllLines(o.resolve("landscape.jsonl")).getLast());
            assertTrue(hessian.has("lambda_max") && !hessian.has("lambda_min"), hessian.toString());
            assertTrue(Files.notExists(o.resolve("landscape-2d.png")), "no plane asked for");
        }
        assertEquals(head.get("loss").asDouble(), atInit[0], 1e-6);
        assertTrue(Math.abs(atInit[1] - atInit[0]) > 1e-4, "another seed, other weights");
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path tmp) throws Exception {
        CharTokenizer tok = CharTokenizer.fromText(TEXT);
        Path model = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(tok.vocabSize(), 8, 1, 2, 8), 5), model);
        tok.save(model.resolve("tokenizer.json"));
        Path bin = tmp.resolve("data.bin");
        TokenFile.write(bin, tok.encode(TEXT));
        Path file = Files.writeString(tmp.resolve("file"), "x");

        assertTrue(CliRun.run("landscape", "--model", model.toString(), "--data", bin.toString(), "--out", file.toString())
                .failedWith("is a file, not a directory"));
        CliRun few = CliRun.run("landscape", "--model", model.toString(), "--data", bin.toString(), "--out",
                tmp.resolve("o").toString(), "--batches", "9");
        assertTrue(few.failedWith("need 577"), few.err());
        assertTrue(CliRun.run("landscape", "--model", model.toString(), "--data", bin.toString(), "--out",
                tmp.resolve("o").toString(), "--points", "4").failedWith("--points must be odd"));
        assertTrue(CliRun.run("landscape", "--model", tmp.resolve("none").toString(), "--out", tmp.resolve("o").toString())
                .failedWith("no such model directory"));
        assertTrue(CliRun.run("landscape", "--model", model.toString(), "--out", tmp.resolve("o").toString())
                .failedWith("--data is needed"));
        assertTrue(Files.notExists(tmp.resolve("o")), "nothing written on bad input");
    }
}
