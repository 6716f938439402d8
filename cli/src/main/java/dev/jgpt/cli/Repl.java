package dev.jgpt.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The loop of {@code jgpt generate}, plain or {@code --chat}: one turn on the prompt (else all of
 * stdin), or with {@code -i} a REPL in which each line is a turn, {@code /reset} starts over and
 * {@code /quit} or the end of input ends it.
 */
final class Repl {
    /** What one kind of session does with its input. */
    interface Session {
        /** Streams the reply to {@code input} to {@code out}, then a summary line to {@code info}. */
        void turn(String input, PrintStream out, PrintStream info);

        /** The input a typed line makes, or null to skip the line. */
        String input(String line);

        /** Starts the session over and returns the line that says so. */
        String reset();

        /** Added to a failed turn's message: how to go on. */
        String recovery();
    }

    private Repl() {}

    /** Runs {@code session}; {@code inputName} names what stdin holds ("prompt", "message"). */
    static int run(Session session, String firstPrompt, boolean interactive, String inputName) throws IOException {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (!interactive) {
            session.turn(firstPrompt != null ? firstPrompt : Stdin.readAll(inputName), out, System.err);
            return 0;
        }
        // A REPL shows everything on stdout, so the summary of a turn comes before the next prompt
        // (stderr and stdout may reach the terminal by different paths, in either order).
        if (firstPrompt != null) {
            session.turn(firstPrompt, out, out);
        }
        Stdin in = new Stdin(out);
        while (true) {
            String line = in.nextLine();
            if (line == null || line.strip().equals("/quit")) {
                out.println();
                out.flush();
                return 0;
            }
            if (line.strip().equals("/reset")) {
                out.println(session.reset());
                continue;
            }
            String input = session.input(line);
            if (input == null) {
                continue;
            }
            try {
                session.turn(input, out, out);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // a full context or a refused template ends the turn, not the session
                out.println("jgpt generate: " + e.getMessage() + session.recovery());
            }
        }
    }
}
