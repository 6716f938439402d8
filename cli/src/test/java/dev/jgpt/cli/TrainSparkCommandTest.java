package dev.jgpt.cli;

import dev.jgpt.tokenizer.Prepare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** jgpt train --spark: the same flags and outputs as a single-process run, on Spark's local[2]. */
class TrainSparkCommandTest {
    @TempDir
    Path tmp;

    private static CliRun train(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--layers", "1", "--heads", "2",
                "--embd", "16", "--block", "16", "--batch", "2", "--iters", "4", "--warmup", "1", "--eval-interval", "2",
                "--eval-iters", "1", "--samples", "0", "--out", out.toString()));
        a.addAll(List.of(more));
        return CliRun.run(a.toArray(String[]::new));
    }

    @Test
    void trainsAndResumesOnLocalSpark() throws Exception {
        Path data = tmp.resolve("shk");
        Prepare.run(CliRun.SHAKESPEARE, Prepare.CHAR, data, 0.1);
        Path out = tmp.resolve("run");
        CliRun r = train(data, out, "--spark", "local[2]", "--sync", "diloco", "--sync-every", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("spark: local[2]") && r.out().contains("2 workers x 1 micro-batches, DiLoCo"), r.out());
        assertTrue(r.out().contains("communication: "), r.out());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")) && Files.isRegularFile(out.resolve("metrics.jsonl")));

        CliRun local = CliRun.run("train", "--resume", "--out", out.toString(), "--iters", "6");
        assertTrue(local.failedWith("it runs on Spark (jgpt train --spark MASTER)"), local.err());
        CliRun resumed = CliRun.run("train", "--resume", "--out", out.toString(), "--iters", "6", "--spark", "local[2]");
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("resuming " + out + " at step 4") && resumed.out().contains("done: step 6"),
                resumed.out());
    }

    @Test
    void onAClusterEachTaskAsksForItsThreadsAsCores() {
        assertEquals(Map.of("spark.task.cpus", "4"), SparkTrain.settings("spark://10.0.0.1:7077", 4));
        assertEquals(Map.of(), SparkTrain.settings("spark://10.0.0.1:7077", null));   // Spark's default, 1
        assertEquals(Map.of(), SparkTrain.settings("local[2]", 4));   // local tasks share the cores as they are
    }

    @Test
    void sparkOptionsNeedSparkAndATokenDirectory() {
        assertTrue(CliRun.run("train", "--workers", "2").failedWith("need --spark MASTER"));
        assertTrue(CliRun.run("train", "--spark", "spark://127.0.0.1:7077").failedWith("--workers N is needed"));
        CliRun text = train(CliRun.SHAKESPEARE, tmp.resolve("text"), "--spark", "local[2]");
        assertTrue(text.failedWith("--data must be a directory made by jgpt prepare"), text.err());
    }
}
