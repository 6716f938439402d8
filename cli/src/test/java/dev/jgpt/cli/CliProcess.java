package dev.jgpt.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs {@code jgpt} in a JVM of its own, started as bin/jgpt starts it: for what only a process shows
 * (signals, resource limits, mounts, errors that end a JVM). Output goes to files, read with {@link #out()}
 * and {@link #err()}.
 */
final class CliProcess {
    private final Process process;
    private final Path out, err;

    private CliProcess(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /** The java command line for {@code jgpt ARGS} with extra JVM options. */
    static List<String> command(List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmOptions);
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts {@code command} (see {@link #command}, possibly behind a shell) with output into {@code dir}. */
    static CliProcess start(Path dir, List<String> command) throws IOException {
        Files.createDirectories(dir);
        Path out = dir.resolve("stdout.txt"), err = dir.resolve("stderr.txt");
        // A test run started in the background inherits SIGINT ignored, and the JVM then never installs its
        // Ctrl-C handler: give the child the default disposition, as a terminal's foreground job has.
        List<String> withDefaultSigint = new ArrayList<>(List.of("env", "--default-signal=INT"));
        withDefaultSigint.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(withDefaultSigint).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("DJL_OFFLINE", "true");
        return new CliProcess(pb.start(), out, err);
    }

    /** {@code sh -c SCRIPT} with {@code command} as "$@": to set a limit or a mount before exec. */
    static List<String> behindShell(String script, List<String> command) {
        List<String> all = new ArrayList<>(List.of("bash", "-c", script, "bash"));
        all.addAll(command);
        return all;
    }

    String out() throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    /** stderr without the JVM's notice that the Vector API is an incubator module (bin/jgpt drops it too). */
    String err() throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .reduce("", (a, b) -> a + b + "\n");
    }

    long pid() {
        return process.pid();
    }

    /** Waits until stdout contains {@code text}. */
    void awaitOutput(String text, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!out().contains(text)) {
            if (!process.isAlive()) {
                fail("jgpt ended (exit " + process.exitValue() + ") before printing '" + text + "':\n" + out() + err());
            }
            if (System.nanoTime() > end) {
                process.destroyForcibly();
                fail("no '" + text + "' after " + timeout + ":\n" + out() + err());
            }
            Thread.sleep(100);
        }
    }

    /** Sends SIGINT, as Ctrl-C on a terminal does. */
    void interrupt() throws Exception {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            fail("kill -INT " + process.pid() + " failed");
        }
    }

    int exitCode(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("jgpt did not end within " + timeout + ":\n" + out() + err());
        }
        return process.exitValue();
    }
}
