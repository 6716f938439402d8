package dev.jgpt.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TokenFileTest {
    @TempDir
    Path tmp;

    @Test
    void writesLittleEndianUint16() throws Exception {
        Path file = tmp.resolve("t.bin");
        TokenFile.write(file, new int[] {0x1234, 0, 65535, 1});
        assertArrayEquals(new byte[] {0x34, 0x12, 0, 0, (byte) 0xFF, (byte) 0xFF, 1, 0}, Files.readAllBytes(file));
        try (TokenFile f = TokenFile.open(file)) {
            assertEquals(4, f.size());
            assertEquals(0x1234, f.get(0));
            assertEquals(65535, f.get(2));
            assertArrayEquals(new int[] {0, 65535, 1}, f.read(1, 3));
        }
    }

    @Test
    void windowsAcrossMappings() throws Exception {
        int[] ids = new int[1000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7919) & 0xFFFF;
        }
        Path file = tmp.resolve("t.bin");
        TokenFile.write(file, ids);
        try (TokenFile f = TokenFile.open(file, 64)) {      // 16 mappings of 64 tokens
            assertEquals(1000, f.size());
            for (int i = 0; i < ids.length; i++) {
                assertEquals(ids[i], f.get(i));
            }
            int[] dst = new int[300];
            f.read(50, dst, 10, 290);
            for (int k = 0; k < 290; k++) {
                assertEquals(ids[50 + k], dst[10 + k]);
            }
            assertEquals(0, dst[0]);
        }
    }

    @Test
    void boundsAreChecked() throws Exception {
        Path file = tmp.resolve("t.bin");
        TokenFile.write(file, new int[] {1, 2, 3});
        try (TokenFile f = TokenFile.open(file)) {
            assertThrows(IndexOutOfBoundsException.class, () -> f.get(3));
            assertThrows(IndexOutOfBoundsException.class, () -> f.get(-1));
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> f.read(2, 2));
            assertTrue(e.getMessage().contains("[2, 4)"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> f.read(0, new int[2], 1, 2));
        }
    }

    @Test
    void idsThatDoNotFitAreRejectedAndNothingIsWritten() {
        Path file = tmp.resolve("t.bin");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenFile.write(file, new int[] {1, 65536}));
        assertTrue(e.getMessage().contains("token id 65536 does not fit"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenFile.write(file, new int[] {-1}));
        assertFalse(Files.exists(file));
        assertEquals(0, tmp.toFile().list().length, "no temporary files left");
    }

    @Test
    void corruptOrMissingFiles() throws Exception {
        Path odd = tmp.resolve("odd.bin");
        Files.write(odd, new byte[] {1, 2, 3});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenFile.open(odd));
        assertTrue(e.getMessage().contains("not a whole number of uint16 tokens"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenFile.open(tmp.resolve("missing.bin")));
        Path empty = Files.createFile(tmp.resolve("empty.bin"));
        try (TokenFile f = TokenFile.open(empty)) {
            assertEquals(0, f.size());
        }
    }

    @Test
    void closedFileRefusesReads() throws Exception {
        Path file = tmp.resolve("t.bin");
        TokenFile.write(file, new int[] {1});
        TokenFile f = TokenFile.open(file);
        f.close();
        assertThrows(IllegalStateException.class, () -> f.get(0));
    }
}
