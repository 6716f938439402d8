package dev.jgpt.cli;

import picocli.CommandLine.Option;

/** The one {@code --threads} rule of every command: 1 to the number of cores; more works, with a warning. */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N",
            description = "Threads, 1..${sys:jgpt.cores} (the cores here; default: all of them). "
                    + "More is allowed, with a warning: it only makes the work slower.")
    Integer threads;

    /** The number to use: the option's value, checked, or every core when it was not given. */
    int resolve() {
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads == null) {
            return cores;
        }
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be between 1 and " + cores
                    + " (the cores here), got " + threads);
        }
        if (threads > cores) {
            System.err.println("jgpt: warning: --threads " + threads + " is more than the " + cores
                    + " cores here: the extra threads only take turns, which makes the work slower");
        }
        return threads;
    }

    /** The value given, checked as {@link #resolve()} does, or {@code null} when the option was not given. */
    Integer given() {
        return threads == null ? null : resolve();
    }
}
