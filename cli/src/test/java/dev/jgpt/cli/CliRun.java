package dev.jgpt.cli;

import dev.jgpt.common.SharedData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs {@link Main#run} with captured stdout and stderr (and optional stdin). */
record CliRun(int exit, String out, String err) {
    static final Path SHAKESPEARE = SharedData.shakespeare();
    static final Path GPT2 = SharedData.gpt2();

    static CliRun run(String... args) {
        return runWithInput(new byte[0], args);
    }

    static CliRun runWithInput(byte[] stdin, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setIn(new ByteArrayInputStream(stdin));
        try {
            int code = Main.run(args);
            return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    /** A failure reported as one "jgpt ...: error: ..." line. */
    boolean failedWith(String message) {
        return exit == 1 && err.strip().lines().count() == 1 && err.contains("error: ") && err.contains(message);
    }
}
