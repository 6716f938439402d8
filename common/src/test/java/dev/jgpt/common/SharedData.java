package dev.jgpt.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The read-only shared data (../shared/data beside the checkout, located through the jgpt.shared
 * property that surefire sets). A missing file fails the test with a message naming it: a test that
 * needs the data must not pass by skipping.
 */
public final class SharedData {
    private static String shakespeare;

    private SharedData() {
    }

    public static Path dir() {
        return Path.of(System.getProperty("jgpt.shared", "../../shared")).resolve("data").toAbsolutePath().normalize();
    }

    /** A file under the shared data folder; fails the test, naming the file, if it is not there. */
    public static Path file(String relative) {
        Path p = dir().resolve(relative);
        if (!Files.isRegularFile(p)) {
            throw new AssertionError("missing shared test data " + p + ": the tests read ../shared/data beside the "
                    + "checkout (see README, Data)");
        }
        return p;
    }

    /** Tiny Shakespeare (1,115,394 bytes). */
    public static Path shakespeare() {
        return file("tinyshakespeare.txt");
    }

    /** GPT-2's byte-level BPE as a Hugging Face tokenizer.json. */
    public static Path gpt2() {
        return file("gpt2/tokenizer.json");
    }

    public static synchronized String shakespeareText() {
        if (shakespeare == null) {
            try {
                shakespeare = Files.readString(shakespeare());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shakespeare;
    }

    /**
     * Random text mixing ASCII, Latin-1, combining marks, CJK, Hangul, Arabic, emoji (with ZWJ
     * and skin-tone modifiers), new lines, tabs and runs of spaces.
     */
    public static String randomUnicode(SplittableRandom rnd, int length) {
        int[][] ranges = {
                {'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'!', '/'}, {0xA0, 0xFF}, {0x300, 0x36F},
                {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0x600, 0x6FF}, {0x1F600, 0x1F64F}, {0x1F3FB, 0x1F3FF},
                {0x200D, 0x200D}, {'\n', '\n'}, {'\t', '\t'}, {' ', ' '}, {0x3000, 0x3000}, {0x10000, 0x1000F},
        };
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            int[] r = ranges[rnd.nextInt(ranges.length)];
            int cp = r[0] + rnd.nextInt(r[1] - r[0] + 1);
            int repeat = cp == ' ' || cp == '\n' ? 1 + rnd.nextInt(3) : 1;
            for (int i = 0; i < repeat; i++) {
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }
}
