package dev.jgpt.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** The read-only shared data (../shared/data), located through the jgpt.shared property. */
final class SharedData {
    private static String shakespeare;

    private SharedData() {
    }

    static Path dir() {
        return Path.of(System.getProperty("jgpt.shared", "../../shared")).resolve("data");
    }

    static Path shakespeare() {
        return dir().resolve("tinyshakespeare.txt");
    }

    static Path gpt2() {
        return dir().resolve("gpt2/tokenizer.json");
    }

    static synchronized String shakespeareText() {
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
    static String randomUnicode(SplittableRandom rnd, int length) {
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
