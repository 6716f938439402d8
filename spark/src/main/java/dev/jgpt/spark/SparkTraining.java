package dev.jgpt.spark;

import dev.jgpt.tokenizer.Prepare;
import dev.jgpt.train.StepEngine;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Data-parallel training on Apache Spark: a Spark application whose driver is this process. Connect to a
 * master ({@code local[N]}, {@code spark://host:7077}, YARN, Kubernetes), then hand {@link #engines()} to
 * {@code Trainer.start} or {@code Trainer.resume}: the trainer evaluates, logs and checkpoints on the driver
 * as in a single-process run, and the engine spreads each step (or DiLoCo round) over {@code workers} tasks.
 */
public final class SparkTraining implements AutoCloseable {
    /**
     * A job-local property for fault-injection tests ({@code context().setLocalProperty}): {@code STEP:WORKER}
     * fails the first attempt of that worker's task at that step, so Spark must retry it.
     */
    public static final String FAIL_FIRST_ATTEMPT = "spark.jgpt.failFirstAttempt";
    /** Task attempts before a job fails, as Spark's default on a cluster (local mode's default is 1). */
    static final int TASK_ATTEMPTS = 4;
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)]");
    private static final String EXECUTOR_JAVA_OPTIONS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    private final JavaSparkContext sc;
    private final Traffic traffic = new Traffic();

    private SparkTraining(JavaSparkContext sc) {
        this.sc = sc;
        sc.sc().addSparkListener(traffic);
    }

    /**
     * Starts the driver against {@code master}; {@code settings} are extra Spark settings (they win over
     * {@code spark.*} system properties and spark-submit's). {@code local[N]} becomes {@code local[N,4]} so that a
     * failed task is retried there as on a cluster.
     */
    public static SparkTraining connect(String master, Map<String, String> settings) {
        SparkConf conf = new SparkConf().setAppName("jgpt train").setMaster(withRetries(master));
        String javaOptions = conf.get("spark.executor.extraJavaOptions", "");
        if (!javaOptions.contains("jdk.incubator.vector")) {
            conf.set("spark.executor.extraJavaOptions", (javaOptions + " " + EXECUTOR_JAVA_OPTIONS).strip());
        }
        // Every step brings N gradients (or deltas) to the driver by design: no cap on their size.
        conf.setIfMissing("spark.driver.maxResultSize", "0");
        if (!master.startsWith("local") && !conf.contains("spark.jars")) {
            applicationJar().ifPresent(jar -> conf.set("spark.jars", jar));
        }
        settings.forEach(conf::set);
        return new SparkTraining(new JavaSparkContext(conf));
    }

    static String withRetries(String master) {
        Matcher m = LOCAL.matcher(master);
        return m.matches() ? "local[" + m.group(1) + "," + TASK_ATTEMPTS + "]" : master;
    }

    /** The jar this class was loaded from, which executors need (bin/jgpt runs the cli's jar). */
    private static java.util.Optional<String> applicationJar() {
        try {
            Path p = Path.of(SparkTraining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(p) && p.toString().endsWith(".jar")
                    ? java.util.Optional.of(p.toString()) : java.util.Optional.empty();
        } catch (URISyntaxException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    public JavaSparkContext context() {
        return sc;
    }

    /** Bytes sent between driver and workers so far. */
    public Traffic traffic() {
        return traffic;
    }

    /** The engine for each run: {@code --sync step} or {@code --sync diloco}, over {@code workers} tasks. */
    public StepEngine.Factory engines() {
        return (model, cfg, data) -> {
            WorkerSpec spec = spec(cfg, data);
            return switch (cfg.sync()) {
                case STEP -> new SyncSteps(sc, spec, model, cfg, data, traffic);
                case DILOCO -> new DilocoSteps(sc, spec, model, cfg, traffic);
            };
        };
    }

    /** The token directory of a run: the workers read its train.bin; anything else is refused, naming it. */
    public static Path tokenDirectory(String data) {
        Path dir = data == null ? null : Path.of(data);
        if (dir == null || !Files.isRegularFile(dir.resolve(Prepare.TRAIN))) {
            throw new IllegalArgumentException("--spark: the workers read a nanoGPT token file, so --data must be a "
                    + "directory made by jgpt prepare (with " + Prepare.TRAIN + " and " + Prepare.VAL + "), on a path "
                    + "every executor can read; got " + (data == null ? "none (tiny Shakespeare as text)" : data));
        }
        return dir;
    }

    private WorkerSpec spec(TrainConfig cfg, TrainData data) {
        Path dir = tokenDirectory(cfg.data());
        int threads = cfg.threads() > 0 ? cfg.threads() : sc.getConf().getInt("spark.task.cpus", 1);
        return new WorkerSpec(cfg.toJson().toString(), data.tokenizer.vocabSize(),
                dir.resolve(Prepare.TRAIN).toUri().toString(), dir.resolve(Prepare.VAL).toUri().toString(), threads);
    }

    @Override
    public void close() {
        sc.stop();
    }
}
