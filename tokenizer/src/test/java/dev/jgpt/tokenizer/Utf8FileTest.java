package dev.jgpt.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class Utf8FileTest {
    @TempDir
    Path tmp;

    @Test
    void decodesAcrossSmallBlocks() throws Exception {
        String text = "héllo 😀 世界\n".repeat(50);
        Path file = tmp.resolve("t.txt");
        Files.writeString(file, text);
        StringBuilder sb = new StringBuilder();
        try (Utf8File f = new Utf8File(file, 16)) {      // multi-byte characters straddle blocks
            while (f.readBlock(sb)) {
                // read on
            }
            assertEquals(text.getBytes(StandardCharsets.UTF_8).length, f.bytesRead());
        }
        assertEquals(text, sb.toString());
        assertEquals(text, Utf8File.readString(file));
    }

    @Test
    void malformedBytesNameTheirOffset() throws Exception {
        Path file = tmp.resolve("bad.txt");
        byte[] bytes = ("x".repeat(100) + "é").getBytes(StandardCharsets.UTF_8);
        bytes[50] = (byte) 0xFF;
        Files.write(file, bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Utf8File.readString(file));
        assertEquals(file + " is not valid UTF-8: invalid byte sequence 0xFF at byte offset 50", e.getMessage());
        // the same through small blocks
        e = assertThrows(IllegalArgumentException.class, () -> {
            try (Utf8File f = new Utf8File(file, 16)) {
                while (f.readBlock(new StringBuilder())) {
                    // read on
                }
            }
        });
        assertTrue(e.getMessage().endsWith("at byte offset 50"), e.getMessage());
    }

    @Test
    void truncatedSequenceAtTheEnd() throws Exception {
        Path file = tmp.resolve("cut.txt");
        byte[] emoji = "😀".getBytes(StandardCharsets.UTF_8);
        Files.write(file, new byte[] {'a', 'b', emoji[0], emoji[1]});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Utf8File.readString(file));
        assertTrue(e.getMessage().contains("byte offset 2"), e.getMessage());
    }
}
