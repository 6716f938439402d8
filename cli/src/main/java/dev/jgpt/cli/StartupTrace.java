package dev.jgpt.cli;

import java.lang.management.ManagementFactory;

/**
 * Where the time to the first token goes: with {@code -Djgpt.startup.trace=true}, {@link #mark} prints one line per
 * step on stderr (milliseconds since the JVM started, and the CPU time of the thread that took the step so far), as
 * {@code benchmarks/scripts/ttft.sh --trace} shows. Off by default: then a mark costs one branch.
 */
final class StartupTrace {
    private static final boolean ON = Boolean.getBoolean("jgpt.startup.trace");

    private StartupTrace() {
    }

    static void mark(String step) {
        if (ON) {
            long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
            long cpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1_000_000;
            System.err.printf("jgpt trace: %-22s %6d ms  (%s: %d ms CPU)%n", step, uptime, Thread.currentThread().getName(), cpu);
        }
    }
}
