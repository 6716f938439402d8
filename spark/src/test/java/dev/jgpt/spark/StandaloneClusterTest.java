package dev.jgpt.spark;

import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real standalone cluster on 127.0.0.1: a Spark Master and two Workers (one core each) started as separate
 * JVMs, like a Spark distribution's sbin/ scripts start them, with only Spark's jars on their classpath; the
 * driver (this JVM) submits runs to it, shipping jgpt's classes as the application jar. Serialization of
 * tasks and results, executors that load jgpt from the shipped jar, and DiLoCo's states cached in other JVMs
 * are exercised here, not assumed: the runs must equal the same runs on local[2] bit for bit.
 */
class StandaloneClusterTest {
    private static final String[] JAVA_OPENS = {"java.lang", "java.lang.invoke", "java.lang.reflect", "java.io",
            "java.net", "java.nio", "java.util", "java.util.concurrent", "java.util.concurrent.atomic",
            "jdk.internal.ref", "sun.nio.ch", "sun.nio.cs", "sun.util.calendar"};
    /** What a Worker logs once the Master has accepted it. */
    private static final String REGISTERED = "Successfully registered with master";
    private static final List<Process> daemons = new ArrayList<>();
    @TempDir
    static Path dir;
    private static String master;
    private static Path sparkHome;
    /** What the driver ships to the executors as spark.jars: jgpt's classes and nothing of Spark's. */
    private static String appJars;

    @BeforeAll
    static void startCluster() throws Exception {
        SparkRuns.tokens();
        sparkHome = sparkHome(Files.createTempDirectory("jgpt-spark-home"));
        appJars = applicationJars(dir.resolve("jgpt-app.jar"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        master = "spark://127.0.0.1:" + port;
        daemons.add(start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--webui-port", "0"));
        for (int w = 1; w <= 2; w++) {
            Path work = Files.createDirectories(dir.resolve("worker" + w));
            daemons.add(start("worker" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--cores", "1", "--memory", "2g", "--webui-port", "0", "--work-dir", work.toString(), master));
        }
    }

    /**
     * The driver gives up on a master that does not answer within a minute; on a loaded machine the daemons can
     * take that long to start, so the driver connects only once both Workers have registered with the Master.
     */
    private static void awaitWorkers() throws IOException {
        for (int w = 1; w <= 2; w++) {
            Path log = dir.resolve("worker" + w + ".log");
            for (int i = 0; i < 1500 && daemons.stream().allMatch(Process::isAlive)
                    && !(Files.exists(log) && Files.readString(log).contains(REGISTERED)); i++) {
                sleep(200);
            }
            assertTrue(Files.readString(log).contains(REGISTERED), "worker " + w + " registered with the master: " + logs());
        }
    }

    @AfterAll
    static void stopCluster() throws InterruptedException, IOException {
        for (Process p : daemons) {
            p.destroy();
        }
        for (Process p : daemons) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (sparkHome != null) {   // links only: the jars themselves stay where they are
            try (Stream<Path> links = Files.list(sparkHome.resolve("jars"))) {
                for (Path l : links.toList()) {
                    Files.delete(l);
                }
            }
            Files.delete(sparkHome.resolve("jars"));
            Files.delete(sparkHome);
        }

    }

    private static List<Path> testClasspath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Stream.of(cp.split(File.pathSeparator)).map(Path::of).toList();
    }

    /**
     * A Spark "distribution" for the daemons and their executors: a jars/ folder with Spark and the libraries
     * it needs (every jar of the test classpath but jgpt's own), which is all a Worker puts on an executor's
     * classpath. jgpt reaches the executors only as the application jar.
     */
    private static Path sparkHome(Path home) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (Path p : testClasspath()) {
            String name = p.getFileName().toString();
            if (name.endsWith(".jar") && !name.startsWith("jgpt-") && !name.startsWith("surefire")) {
                Files.createSymbolicLink(jars.resolve(name), p.toAbsolutePath());
            }
        }
        return home;
    }

    /**
     * jgpt's own classes: the module output folders on the test classpath packed into one jar, plus the modules
     * that are on it as jars (under {@code verify} Maven puts the other modules' packaged jars there, under
     * {@code test} their target/classes), as a comma-separated spark.jars list.
     */
    private static String applicationJars(Path jar) throws IOException {
        List<String> jars = new ArrayList<>(List.of(jar.toString()));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Path p : testClasspath()) {
                if (p.endsWith(Path.of("target", "classes")) && Files.isDirectory(p.resolve("dev/jgpt"))) {
                    try (Stream<Path> files = Files.walk(p.resolve("dev"))) {
                        for (Path f : files.filter(Files::isRegularFile).toList()) {
                            out.putNextEntry(new JarEntry(p.relativize(f).toString().replace(File.separatorChar, '/')));
                            Files.copy(f, out);
                            out.closeEntry();
                        }
                    }
                } else if (p.getFileName().toString().startsWith("jgpt-") && p.toString().endsWith(".jar")) {
                    jars.add(p.toAbsolutePath().toString());
                }
            }
        }
        return String.join(",", jars);
    }

    private static Process start(String name, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", sparkHome.resolve("jars") + File.separator + "*"));
        for (String p : JAVA_OPENS) {
            cmd.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-Dslf4j.provider=org.apache.logging.slf4j.SLF4JServiceProvider", mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    private static SparkTraining connect() throws IOException {
        awaitWorkers();
        SparkTraining cluster = SparkTraining.connect(master, SparkRuns.quiet(Map.of(
                "spark.jars", appJars,
                "spark.driver.host", "127.0.0.1",
                "spark.driver.bindAddress", "127.0.0.1",
                "spark.executor.cores", "1",
                "spark.executor.memory", "1g",
                "spark.cores.max", "2")));
        // Both executors registered (the driver counts as one block manager).
        for (int i = 0; i < 1500 && cluster.context().sc().getExecutorMemoryStatus().size() < 3; i++) {
            sleep(200);
        }
        assertEquals(3, cluster.context().sc().getExecutorMemoryStatus().size(), "two executors joined: " + logs());
        return cluster;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String logs() {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log") || p.endsWith("stderr")).toList()) {
                String text = Files.readString(f);
                sb.append("\n--- ").append(f).append(" ---\n").append(text, Math.max(0, text.length() - 3000), text.length());
            }
        } catch (IOException e) {
            sb.append(e);
        }
        return sb.toString();
    }

    @Test
    void runsSubmittedToTheClusterEqualLocalRuns() throws IOException {
        TrainConfig sync = SparkRuns.small().iters(6).evalInterval(3).workers(2).build();
        TrainConfig diloco = sync.toBuilder().sync(TrainConfig.Sync.DILOCO).syncEvery(3).build();
        SparkRuns.Run syncLocal = SparkRuns.spark(sync, null), dilocoLocal = SparkRuns.spark(diloco, null);
        SparkRuns.stopLocal2();   // one SparkContext per JVM

        SparkRuns.Run syncCluster, dilocoCluster;
        List<String> localities = new CopyOnWriteArrayList<>();
        try (SparkTraining cluster = connect()) {
            try (TrainData d = SparkRuns.data();
                 Trainer t = Trainer.start(sync, d, dir.resolve("sync-run"), false, cluster.engines())) {
                syncCluster = SparkRuns.run(t);
            }
            cluster.context().sc().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    localities.add(end.stageId() + ":" + end.taskInfo().taskLocality());
                }
            });
            try (TrainData d = SparkRuns.data();
                 Trainer t = Trainer.start(diloco, d, null, false, cluster.engines())) {
                dilocoCluster = SparkRuns.run(t);
            }
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError(e + logs(), e);
        }
        assertEquals(syncLocal.losses(), syncCluster.losses(), "sync step on the cluster = on local[2]");
        assertTrue(SparkRuns.sameWeights(syncLocal.weights(), syncCluster.weights()));
        assertTrue(Files.isRegularFile(dir.resolve("sync-run").resolve("train_state").resolve("optimizer.safetensors")));
        assertTrue(Files.readString(dir.resolve("sync-run").resolve("metrics.jsonl")).lines().count() >= 3);
        assertEquals(dilocoLocal.losses(), dilocoCluster.losses(), "DiLoCo on the cluster = on local[2]");
        assertTrue(SparkRuns.sameWeights(dilocoLocal.weights(), dilocoCluster.weights()));
        System.out.println("DiLoCo task localities (stage:locality): " + localities);
    }
}
