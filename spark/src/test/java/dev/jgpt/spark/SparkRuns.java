package dev.jgpt.spark;

import dev.jgpt.common.SharedData;
import dev.jgpt.tokenizer.Prepare;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Shared fixtures: tiny Shakespeare as a token directory, small configs, and runs on Spark or locally. */
final class SparkRuns {
    private static Path tokens;

    private SparkRuns() {
    }

    /** Tiny Shakespeare, char-level, prepared once per test JVM into a temporary directory. */
    static synchronized Path tokens() {
        if (tokens == null) {
            try {
                Path dir = Files.createTempDirectory("jgpt-spark-tokens");
                dir.toFile().deleteOnExit();
                Prepare.run(SharedData.shakespeare(), Prepare.CHAR, dir, 0.1);
                tokens = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tokens;
    }

    static TrainData data() throws IOException {
        return TrainData.load(tokens().toString(), null);
    }

    /** A 2-layer, 32-wide model with dropout on (so the dropout seeds are exercised), 1 kernel thread. */
    static TrainConfig.Builder small() {
        return new TrainConfig.Builder().data(tokens().toString()).nLayer(2).nHead(2).nEmbd(32).blockSize(32)
                .batchSize(4).iters(50).warmup(5).lr(3e-3).minLr(3e-4).dropout(0.1f).evalInterval(50).evalIters(2)
                .threads(1).seed(7).samples(0);
    }

    /** Every step's stats and the final weights of a run. */
    record Run(List<Trainer.StepStats> steps, List<float[]> weights, Trainer.Result result) {
        List<Double> losses() {
            return steps.stream().map(Trainer.StepStats::loss).toList();
        }
    }

    static Run local(TrainConfig cfg, Path out) throws IOException {
        try (TrainData d = data(); Trainer t = Trainer.start(cfg, d, out, false)) {
            return run(t);
        }
    }

    private static SparkTraining shared;

    /**
     * One local[2] Spark application for the tests of this JVM (a JVM holds one SparkContext at a time, and
     * starting one costs seconds); Spark's shutdown hook stops it.
     */
    static synchronized SparkTraining local2() {
        if (shared == null) {
            shared = SparkTraining.connect("local[2]", quiet(Map.of()));
        }
        return shared;
    }

    /** Stops {@link #local2()}'s application, for a test that needs a SparkContext of its own. */
    static synchronized void stopLocal2() {
        if (shared != null) {
            shared.close();
            shared = null;
        }
    }

    static Run spark(TrainConfig cfg, Path out) throws IOException {
        return spark(cfg, out, null);
    }

    /** A run on {@link #local2()}; {@code failFirstAttempt} ("STEP:WORKER") injects a one-time task failure. */
    static Run spark(TrainConfig cfg, Path out, String failFirstAttempt) throws IOException {
        SparkTraining spark = local2();
        spark.context().setLocalProperty(SparkTraining.FAIL_FIRST_ATTEMPT, failFirstAttempt);
        try (TrainData d = data(); Trainer t = Trainer.start(cfg, d, out, false, spark.engines())) {
            return run(t);
        } finally {
            spark.context().setLocalProperty(SparkTraining.FAIL_FIRST_ATTEMPT, null);
        }
    }

    static Map<String, String> quiet(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(Map.of("spark.ui.enabled", "false"));
        all.putAll(settings);
        return all;
    }

    static Run run(Trainer t) throws IOException {
        List<Trainer.StepStats> steps = new ArrayList<>();
        Trainer.Result r = t.run(new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepStats stats, double tokensPerS) {
                steps.add(stats);
            }
        });
        return new Run(steps, t.model().parameters().stream().map(p -> p.data.clone()).toList(), r);
    }

    static double maxRelativeDifference(List<Double> a, List<Double> b) {
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            worst = Math.max(worst, Math.abs(a.get(i) - b.get(i)) / Math.abs(a.get(i)));
        }
        return worst;
    }

    /** max |a − b| / max |a| over all weights. */
    static double weightDifference(List<float[]> a, List<float[]> b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                diff = Math.max(diff, Math.abs(a.get(i)[j] - b.get(i)[j]));
                scale = Math.max(scale, Math.abs(a.get(i)[j]));
            }
        }
        return diff / scale;
    }

    static boolean sameWeights(List<float[]> a, List<float[]> b) {
        for (int i = 0; i < a.size(); i++) {
            if (!java.util.Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

}
