package dev.jgpt.cli;

import dev.jgpt.tokenizer.Utf8File;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Standard input as text for {@code jgpt generate}, decoded strictly as UTF-8: a bad byte is one
 * error naming where it is, never a silent U+FFFD in the prompt.
 */
final class Stdin {
    // bytes, decoded a line at a time: a decoding reader reads ahead and would fail on a bad later
    // line before returning the good ones, naming the wrong line
    private final InputStream in = new BufferedInputStream(System.in);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final PrintStream out;
    private int lineNumber;

    /** The lines of a REPL, each asked for with the prompt {@code "> "} on {@code out}. */
    Stdin(PrintStream out) {
        this.out = out;
    }

    /**
     * All of standard input, as one {@code what} (on a terminal, saying first how to end it).
     *
     * @throws IllegalArgumentException naming the byte offset, if it is not UTF-8
     */
    static String readAll(String what) throws IOException {
        if (System.console() != null) {
            System.err.println("jgpt generate: reading the " + what + " from stdin (end it with Ctrl-D)");
        }
        return Utf8File.decode(System.in.readAllBytes(), "standard input");
    }

    /**
     * Prompts and reads the next line (without its {@code \n} or {@code \r\n}); null at the end of input.
     *
     * @throws IllegalArgumentException naming the line, if it is not UTF-8 (the prompt's line ended first)
     */
    String nextLine() throws IOException {
        out.print("> ");
        out.flush();
        lineNumber++;
        line.reset();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        try {
            return Utf8File.decode(Arrays.copyOf(bytes, length), "standard input");
        } catch (IllegalArgumentException notUtf8) {
            out.println();
            out.flush();
            throw new IllegalArgumentException("standard input is not valid UTF-8 (line " + lineNumber + ")");
        }
    }
}
