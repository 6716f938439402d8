package dev.jgpt.cli;

import dev.jgpt.spark.SparkTraining;
import dev.jgpt.spark.Traffic;
import dev.jgpt.train.StepEngine;
import dev.jgpt.train.TrainConfig;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Spark side of {@code jgpt train --spark}, kept apart so that a plain {@code jgpt train} never loads a
 * Spark class (Spark is not in the jgpt jar: bin/jgpt or spark-submit put it on the classpath).
 */
final class SparkTrain implements AutoCloseable {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\d+|\\*)(?:,\\d+)?])?");
    private final SparkTraining training;
    private final String master;

    private SparkTrain(SparkTraining training, String master) {
        this.training = training;
        this.master = master;
    }

    static void checkAvailable() {
        try {
            Class.forName("org.apache.spark.SparkContext", false, SparkTrain.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("--spark: Apache Spark is not on the classpath; run through bin/jgpt "
                    + "(it adds $SPARK_HOME/jars, or the jars the build copied to spark/target/spark-jars) or "
                    + "spark-submit --class dev.jgpt.cli.Main cli/target/jgpt.jar train ...");
        }
    }

    /** The workers of a local master (local[N]: N; local[*]: the cores; local: 1); a cluster needs --workers. */
    static int defaultWorkers(String master) {
        Matcher m = LOCAL.matcher(master);
        if (!m.matches()) {
            throw new IllegalArgumentException("--workers N is needed with --spark " + master
                    + " (the default, N of local[N], is for a local master)");
        }
        String n = m.group(1);
        return n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
    }

    /**
     * {@code threads} (--threads, or null): the kernel threads of each task, so on a cluster each task asks
     * Spark for that many cores ({@code spark.task.cpus}), unless spark-submit's settings say otherwise. In
     * local[N] the N tasks share the machine's cores as they are.
     */
    static SparkTrain connect(String master, Integer threads) {
        return new SparkTrain(SparkTraining.connect(master, settings(master, threads)), master);
    }

    static Map<String, String> settings(String master, Integer threads) {
        return threads == null || LOCAL.matcher(master).matches() || System.getProperty("spark.task.cpus") != null
                ? Map.of() : Map.of("spark.task.cpus", Integer.toString(threads));
    }

    StepEngine.Factory engines() {
        return training.engines();
    }

    String describe(TrainConfig c) {
        String sync = c.sync() == TrainConfig.Sync.STEP
                ? "gradients averaged every step (treeAggregate)"
                : String.format(Locale.ROOT, "DiLoCo, %d local steps per round, outer Nesterov lr %s momentum %s",
                c.syncEvery(), c.outerLr(), c.outerMomentum());
        return String.format(Locale.ROOT, "spark: %s (Spark %s), %d workers x %d micro-batches, %s",
                master, training.context().version(), c.workers(), c.gradAccum(), sync);
    }

    /** Bytes sent per step over this session's {@code steps} steps. */
    String traffic(int steps) {
        Traffic t = training.traffic();
        return String.format(Locale.ROOT, "communication: %.2f MB per step (weights to workers %.2f MB, results to the "
                        + "driver %.2f MB, shuffle %.2f MB)", t.totalBytes() / 1e6 / steps, t.broadcastBytes() / 1e6 / steps,
                t.resultBytes() / 1e6 / steps, t.shuffleBytes() / 1e6 / steps);
    }

    @Override
    public void close() {
        training.close();
    }
}
