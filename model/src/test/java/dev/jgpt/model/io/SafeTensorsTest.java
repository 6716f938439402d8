package dev.jgpt.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reader's pieces: tensors larger than one read call (the reader reads a quarter megabyte at a time), in
 * F32 and BF16, plain and transposed with a last block of fewer than 16 rows, come back bit for bit at any
 * offset; a file cut short after it was opened is an error naming the file and the tensor.
 */
class SafeTensorsTest {
    @TempDir
    Path tmp;

    /** 3 × 2^16 + 5 floats: three whole reads of 2^16 floats and a part of one, or one and a half in BF16. */
    private static final int BIG = 3 * (1 << 16) + 5;

    @Test
    void largeTensorsReadBackExactlyInPieces() throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        float[] big = values(rng, BIG);
        int rows = 37, cols = 3001;   // rows: two blocks of 16 and a rest of 5
        float[] matrix = values(rng, rows * cols);
        Path file = tmp.resolve("f32.safetensors");
        SafeTensors.write(file, List.of(new SafeTensors.Slice("big", new int[] {BIG}, big, 0, false),
                new SafeTensors.Slice("m", new int[] {rows, cols}, matrix, 0, false)), Map.of());
        try (SafeTensors.Reader r = SafeTensors.Reader.open(file)) {
            float[] got = new float[BIG + 3];
            r.readInto(r.entries().get("big"), got, 3);
            for (int i = 0; i < BIG; i++) {
                assertEquals(Float.floatToRawIntBits(big[i]), Float.floatToRawIntBits(got[i + 3]), "big[" + i + "]");
            }
            float[] t = new float[rows * cols + 2];
            r.readTransposedInto(r.entries().get("m"), t, 2);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    assertEquals(Float.floatToRawIntBits(matrix[i * cols + j]), Float.floatToRawIntBits(t[2 + j * rows + i]),
                            "m[" + i + "," + j + "] transposed");
                }
            }
        }
        Map<String, SafeTensors.Tensor> bf = new LinkedHashMap<>();
        bf.put("big", new SafeTensors.Tensor("big", new int[] {BIG}, big));
        bf.put("m", new SafeTensors.Tensor("m", new int[] {rows, cols}, matrix));
        Path bfFile = tmp.resolve("bf16.safetensors");
        LlamaModelDirTest.writeBf16(bfFile, bf);
        try (SafeTensors.Reader r = SafeTensors.Reader.open(bfFile)) {
            float[] got = r.read(r.entries().get("big"));
            for (int i = 0; i < BIG; i++) {
                assertEquals(Float.floatToRawIntBits(big[i]) & 0xffff0000, Float.floatToRawIntBits(got[i]), "bf16 big[" + i + "]");
            }
            float[] t = new float[rows * cols];
            r.readTransposedInto(r.entries().get("m"), t, 0);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    assertEquals(Float.floatToRawIntBits(matrix[i * cols + j]) & 0xffff0000,
                            Float.floatToRawIntBits(t[j * rows + i]), "bf16 m[" + i + "," + j + "] transposed");
                }
            }
        }
    }

    @Test
    void aFileCutShortAfterOpeningNamesTheFileAndTensor() throws IOException {
        Path file = tmp.resolve("cut.safetensors");
        SafeTensors.write(file, List.of(new SafeTensors.Slice("big", new int[] {BIG}, new float[BIG], 0, false)), Map.of());
        try (SafeTensors.Reader r = SafeTensors.Reader.open(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 4 * 1000);
            }
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> r.read(r.entries().get("big")));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("tensor big"), e.getMessage());
        }
    }

    private static float[] values(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }
}
