package dev.jgpt.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where the time to the first token goes: with {@code -Djgpt.startup.trace=true}, {@link #mark} prints one line per
 * step on stderr (milliseconds since the JVM started, and the CPU time of the thread that took the step so far, with the
 * part of it spent in the kernel: page faults, mostly), as
 * {@code benchmarks/scripts/ttft.sh --trace} shows, and {@link #threads} the CPU time of every thread of the process
 * so far, the JVM's own included (the JIT's compiler threads, the collector's). Off by default: then a call costs one
 * branch.
 */
final class StartupTrace {
    private static final boolean ON = Boolean.getBoolean("jgpt.startup.trace");
    /** Milliseconds per clock tick of /proc's times: USER_HZ is 100 on every Linux the JDK runs on. */
    private static final long TICK_MS = 10;

    private StartupTrace() {
    }

    static void mark(String step) {
        if (ON) {
            long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
            var threads = ManagementFactory.getThreadMXBean();
            long cpu = threads.getCurrentThreadCpuTime() / 1_000_000, user = threads.getCurrentThreadUserTime() / 1_000_000;
            System.err.printf("jgpt trace: %-22s %6d ms  (%s: %d ms CPU, %d ms of it system)%n", step, uptime,
                    Thread.currentThread().getName(), cpu, cpu - user);
        }
    }

    /**
     * The process's CPU time so far by thread, summed over threads whose names differ only in a number (the compiler
     * threads, the collector's workers, the kernel pool): user and system milliseconds from Linux's
     * {@code /proc/self/task/ID/stat}. Elsewhere, or where that cannot be read, it prints nothing.
     */
    static void threads() {
        if (!ON) {
            return;
        }
        Map<String, long[]> byName = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException ended) {
                    continue;   // the thread ended meanwhile
                }
                // pid (comm) state ...: comm may hold spaces and parentheses, so it ends at the last ')'
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close).replaceAll("[0-9]+$", "#").strip();
                long[] sum = byName.computeIfAbsent(name, n -> new long[3]);
                long[] cpu = cpu(stat);
                sum[0] += cpu[0];
                sum[1] += cpu[1];
                sum[2]++;
            }
            long[] process = cpu(Files.readString(Path.of("/proc/self/stat")));
            String memory = Files.readAllLines(Path.of("/proc/self/smaps_rollup")).stream()
                    .filter(l -> l.startsWith("Rss:") || l.startsWith("Anonymous:"))
                    .map(l -> l.replaceAll("\\s+", " ")).reduce((a, b) -> a + ", " + b).orElse("");
            StringBuilder sb = new StringBuilder();
            for (var e : byName.entrySet()) {
                long[] s = e.getValue();
                if (s[0] + s[1] > 0) {
                    sb.append(String.format("jgpt trace:   %-20s %3d× %6d ms user %6d ms sys%n", e.getKey(), s[2], s[0], s[1]));
                }
            }
            System.err.printf("jgpt trace: process %d ms user %d ms sys (%s); living threads:%n%s", process[0], process[1],
                    memory, sb);
        } catch (IOException | RuntimeException notLinux) {
            // nothing to show
        }
    }

    /** User and system milliseconds of a /proc stat line (fields 14 and 15, counted after the name's parenthesis). */
    private static long[] cpu(String stat) {
        List<String> f = List.of(stat.substring(stat.lastIndexOf(')') + 2).split(" "));
        return new long[] {Long.parseLong(f.get(11)) * TICK_MS, Long.parseLong(f.get(12)) * TICK_MS};
    }
}
