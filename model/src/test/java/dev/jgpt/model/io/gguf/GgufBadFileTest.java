package dev.jgpt.model.io.gguf;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged and hostile files: each gives one IOException whose message starts with the file's path
 * and names the key or tensor at fault, before anything is read past the end or allocated for it.
 */
class GgufBadFileTest {
    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Asserts that opening fails with an IOException mentioning the file and every fragment. */
    private void bad(String name, byte[] bytes, String... fragments) throws IOException {
        Path p = file(name, bytes);
        IOException e = assertThrows(IOException.class, () -> GgufFile.open(p).close(), name);
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), name + ": \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }

    /** One F32 tensor "t" of 4 floats after one string key: a valid file to damage. */
    private static GgufBytes valid(int tensorType, long offset, long... dims) {
        return new GgufBytes().header(1, 1).str("general.name").u32(8).str("ok")
                .tensor("t", tensorType, offset, dims).padTo(32);
    }

    @Test
    void validBaselineOpens() throws IOException {
        Path p = file("valid.gguf", valid(0, 0, 4).zeros(16).bytes());
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(16, g.tensor("t").byteSize());
        }
    }

    @Test
    void magicVersionAndEndianness() throws IOException {
        bad("empty.gguf", new byte[0], "truncated", "magic");
        bad("magic.gguf", "GGML and more bytes".getBytes(), "not a GGUF file");
        bad("v1.gguf", new GgufBytes().raw("GGUF".getBytes()).u32(1).u64(0).u64(0).bytes(), "version 1");
        bad("v4.gguf", new GgufBytes().raw("GGUF".getBytes()).u32(4).u64(0).u64(0).bytes(), "version 4");
        bad("be.gguf", new GgufBytes().raw("GGUF".getBytes()).u32(0x03000000).u64(0).u64(0).bytes(), "big-endian");
    }

    @Test
    void hostileCountsAndLengthsFailBeforeAllocating() throws IOException {
        bad("tensors.gguf", new GgufBytes().header(1L << 60, 0).bytes(), "tensor count", "1152921504606846976");
        bad("kvs.gguf", new GgufBytes().header(0, -1).bytes(), "metadata count", "18446744073709551615");
        bad("keylen.gguf", new GgufBytes().header(0, 1).u64(1L << 62).zeros(16).bytes(), "metadata key #0 length");
        bad("strlen.gguf", new GgufBytes().header(0, 1).str("k").u32(8).u64(Long.MAX_VALUE).bytes(), "key k length");
        bad("arrlen.gguf", new GgufBytes().header(0, 1).str("k").u32(9).u32(6).u64(1L << 40).zeros(64).bytes(),
                "key k array length", "FLOAT32");
        bad("strarr.gguf", new GgufBytes().header(0, 1).str("k").u32(9).u32(8).u64(1000).zeros(64).bytes(),
                "key k array length");
        GgufBytes deep = new GgufBytes().header(0, 1).str("deep").u32(9);
        for (int i = 0; i < 100; i++) {
            deep.u32(9).u64(1);
        }
        bad("deep.gguf", deep.u32(5).u64(0).bytes(), "deep", "nests arrays more than 64");
        bad("namelen.gguf", new GgufBytes().header(1, 0).u64(1L << 50).zeros(32).bytes(), "tensor name #0 length");
    }

    @Test
    void badMetadata() throws IOException {
        bad("vtype.gguf", new GgufBytes().header(0, 1).str("k.x").u32(13).u8(0).bytes(), "key k.x", "unknown value type 13");
        bad("etype.gguf", new GgufBytes().header(0, 1).str("k.x").u32(9).u32(77).u64(0).bytes(), "key k.x", "77");
        bad("bool.gguf", new GgufBytes().header(0, 1).str("flag").u32(7).u8(2).bytes(), "key flag", "boolean byte 2");
        bad("boolarr.gguf", new GgufBytes().header(0, 1).str("flags").u32(9).u32(7).u64(2).u8(1).u8(9).bytes(),
                "key flags[1]", "boolean byte 9");
        bad("dupkey.gguf", new GgufBytes().header(0, 2).str("k").u32(0).u8(1).str("k").u32(0).u8(2).bytes(), "key k twice");
        bad("emptykey.gguf", new GgufBytes().header(0, 1).str("").u32(0).u8(1).bytes(), "metadata key #0 is empty");
        bad("utf8.gguf", new GgufBytes().header(0, 1).str("k").u32(8).u64(2).raw((byte) 0xc3, (byte) 0x28).bytes(),
                "key k", "UTF-8");
        bad("align-type.gguf", new GgufBytes().header(0, 1).str("general.alignment").u32(5).u32(32).bytes(),
                "general.alignment", "UINT32");
        bad("align-48.gguf", new GgufBytes().header(0, 1).str("general.alignment").u32(4).u32(48).bytes(),
                "general.alignment", "48", "power of two");
        bad("truncated-value.gguf", new GgufBytes().header(0, 1).str("k.u64").u32(10).u32(1).bytes(),
                "truncated", "key k.u64");
    }

    @Test
    void badTensorInfos() throws IOException {
        bad("ttype.gguf", valid(99, 0, 4).zeros(16).bytes(), "tensor t", "unknown tensor type 99");
        bad("retired.gguf", valid(4, 0, 32).zeros(64).bytes(), "tensor t", "unknown tensor type 4");
        bad("dims.gguf", valid(0, 0, 1, 1, 1, 1, 1).zeros(16).bytes(), "tensor t", "5 dimensions");
        bad("block.gguf", valid(8, 0, 48).zeros(68).bytes(), "tensor t", "48", "block size 32");
        bad("kblock.gguf", valid(12, 0, 128, 2).zeros(144).bytes(), "tensor t", "block size 256");
        bad("misaligned.gguf", valid(0, 8, 4).zeros(64).bytes(), "tensor t", "data offset 8", "alignment 32");
        bad("outside.gguf", valid(0, 1L << 40, 4).zeros(16).bytes(), "tensor t", "past the end");
        bad("size.gguf", valid(0, 0, 4, 3).zeros(16).bytes(), "tensor t", "past the end", "48 bytes");
        bad("huge.gguf", valid(0, 0, 1L << 32, 1L << 32).zeros(16).bytes(), "tensor t", "more than 2^63");
        bad("negdim.gguf", valid(0, 0, -5).zeros(16).bytes(), "tensor t", "dimension 0");
        bad("longname.gguf", new GgufBytes().header(1, 0).tensor("n".repeat(64), 0, 0, 4).padTo(32).zeros(16).bytes(),
                "tensor " + "n".repeat(64), "longer than 63 bytes");
        bad("dupname.gguf", new GgufBytes().header(2, 0).tensor("a", 0, 0, 4).tensor("a", 0, 32, 4).padTo(32).zeros(64).bytes(),
                "tensor a twice");
        bad("overlap.gguf", new GgufBytes().header(2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 4).padTo(32).zeros(96).bytes(),
                "tensors a and b overlap");
        bad("nodata.gguf", new GgufBytes().header(1, 0).tensor("t", 0, 0, 4).bytes(), "truncated", "tensor data would start");
    }

    /** Every prefix of a real file fails cleanly, up to the end of the last tensor's data. */
    @Test
    void everyTruncationIsReported() throws IOException {
        SplittableRandom rng = new SplittableRandom(2);
        float[] w = new float[4 * 256];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        Path full = dir.resolve("full.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .put("tokenizer.ggml.tokens", GgufValue.strings("a", "b", "Ġc"))
                .put("nested", GgufValue.arrays(GgufValue.int32s(1, 2), GgufValue.float32s()))
                .tensor("q", WeightMatrix.quantize(WeightType.Q4_K, w, 4, 256))
                .tensor("n", new float[] {1, 2, 3}, 3)
                .write(full);
        byte[] bytes = Files.readAllBytes(full);
        long end;
        try (GgufFile g = GgufFile.open(full)) {
            end = g.tensor("n").offset() + g.tensor("n").byteSize();
        }
        for (int n = 0; n < bytes.length; n++) {
            Path p = file("cut.gguf", Arrays.copyOf(bytes, n));
            if (n < end) {
                IOException e = assertThrows(IOException.class, () -> GgufFile.open(p).close(), "prefix of " + n);
                assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            } else {
                GgufFile.open(p).close();   // only the last tensor's padding is missing
            }
        }
    }

    /** Random damage to the header never gives anything but a clean open or an IOException. */
    @Test
    void corruptedHeadersFailCleanly() throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        Path full = dir.resolve("base.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("gpt2"))
                .put("ints", GgufValue.int32s(1, 2, 3)).put("s", GgufValue.strings("x", "yy"))
                .put("nested", GgufValue.arrays(GgufValue.strings("z")))
                .tensor("a", new float[64], 8, 8).tensor("b", new float[5], 5).write(full);
        byte[] base = Files.readAllBytes(full);
        int headerEnd;
        try (GgufFile g = GgufFile.open(full)) {
            headerEnd = (int) g.dataStart();
        }
        int failures = 0;
        for (int trial = 0; trial < 1000; trial++) {
            byte[] b = base.clone();
            for (int k = 1 + rng.nextInt(3); k > 0; k--) {
                b[rng.nextInt(headerEnd)] = (byte) rng.nextInt();
            }
            Path p = file("fuzz.gguf", b);
            try {
                GgufFile.open(p).close();
            } catch (IOException e) {
                failures++;
                assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            } catch (RuntimeException | OutOfMemoryError e) {
                fail("trial " + trial + ": " + e, e);
            }
        }
        assertTrue(failures > 300, "damage is detected: " + failures + " of 1000");
    }
}
