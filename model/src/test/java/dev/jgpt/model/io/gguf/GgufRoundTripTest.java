package dev.jgpt.model.io.gguf;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufRoundTripTest {
    /** One value of every GGUF type, arrays of every element type, nested and empty arrays. */
    static Map<String, GgufValue> everyKind() {
        Map<String, GgufValue> m = new java.util.LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string("gpt2"));
        m.put("t.uint8", GgufValue.uint8(255));
        m.put("t.int8", GgufValue.int8(-128));
        m.put("t.uint16", GgufValue.uint16(65535));
        m.put("t.int16", GgufValue.int16(-32768));
        m.put("t.uint32", GgufValue.uint32(0xffffffffL));
        m.put("t.int32", GgufValue.int32(Integer.MIN_VALUE));
        m.put("t.float32", GgufValue.float32(Float.NaN));
        m.put("t.bool", GgufValue.bool(true));
        m.put("t.string.empty", GgufValue.string(""));
        m.put("t.string.unicode", GgufValue.string("Ġthe ü 日本 🎉"));
        m.put("t.uint64", GgufValue.uint64(Long.parseUnsignedLong("18446744073709551615")));
        m.put("t.int64", GgufValue.int64(Long.MIN_VALUE));
        m.put("t.float64", GgufValue.float64(-0.0));
        m.put("a.uint8", GgufValue.array(GgufType.UINT8, new byte[] {0, (byte) 255, 7}));
        m.put("a.int8", GgufValue.array(GgufType.INT8, new byte[] {-1, 1}));
        m.put("a.uint16", GgufValue.array(GgufType.UINT16, new short[] {(short) 65535}));
        m.put("a.int16", GgufValue.array(GgufType.INT16, new short[] {-2, 3}));
        m.put("a.uint32", GgufValue.array(GgufType.UINT32, new int[] {-1}));
        m.put("a.int32", GgufValue.int32s(1, -2, 3));
        m.put("a.float32", GgufValue.float32s(0.5f, Float.NEGATIVE_INFINITY));
        m.put("a.bool", GgufValue.array(GgufType.BOOL, new boolean[] {true, false, true}));
        m.put("a.string", GgufValue.strings("a", "", "Ġb c"));
        m.put("a.uint64", GgufValue.array(GgufType.UINT64, new long[] {-1L, 0}));
        m.put("a.int64", GgufValue.array(GgufType.INT64, new long[] {Long.MAX_VALUE}));
        m.put("a.float64", GgufValue.array(GgufType.FLOAT64, new double[] {Math.PI}));
        m.put("a.empty", GgufValue.array(GgufType.FLOAT32, new float[0]));
        m.put("a.nested", GgufValue.arrays(GgufValue.int32s(1, 2), GgufValue.strings("x"),
                GgufValue.arrays(GgufValue.float32s(3f), GgufValue.arrays())));
        return m;
    }

    static MemorySegment randomBytes(SplittableRandom rng, long n) {
        byte[] b = new byte[(int) n];
        rng.nextBytes(b);
        return MemorySegment.ofArray(b);
    }

    @Test
    void metadataAndTensorsOfEveryKindRoundTrip(@TempDir Path dir) throws IOException {
        SplittableRandom rng = new SplittableRandom(1);
        GgufWriter w = new GgufWriter();
        everyKind().forEach(w::put);
        float[] bias = {1f, -2f, 3.5f};
        w.tensor("bias", bias, 3);
        List<WeightMatrix> mats = new java.util.ArrayList<>();
        for (WeightType t : WeightType.values()) {
            int rows = 3 + t.ordinal(), cols = t.blockSize == 256 ? 512 : 64;
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rng.nextGaussian();
            }
            WeightMatrix m = WeightMatrix.quantize(t, v, rows, cols);
            mats.add(m);
            w.tensor("w." + t.ggmlName(), m);
        }
        // Types jgpt cannot compute with still travel: a 3-D q5_K, a 4-D i32.
        MemorySegment q5 = randomBytes(rng, 2L * 3 * 176);
        w.tensor("raw.q5_K", GgmlType.Q5_K, new long[] {256, 2, 3}, q5);
        MemorySegment i32 = randomBytes(rng, 4L * 5 * 1 * 2 * 1);
        w.tensor("raw.i32", GgmlType.I32, new long[] {5, 1, 2, 1}, i32);
        Path file = dir.resolve("every.gguf");
        w.write(file);

        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(everyKind(), g.metadata(), "metadata, types included");
            assertEquals(List.copyOf(everyKind().keySet()), List.copyOf(g.metadata().keySet()), "key order");
            assertEquals(GgmlType.F32, g.tensor("bias").type());
            assertArrayEquals(bias, g.floats("bias"));
            for (WeightMatrix m : mats) {
                GgufTensor t = g.tensor("w." + m.type().ggmlName());
                assertArrayEquals(new long[] {m.cols(), m.rows()}, t.dims());
                assertArrayEquals(new long[] {m.rows(), m.cols()}, t.shape());
                assertEquals(0, t.offset() % 32, "aligned");
                assertEquals(-1, t.data().mismatch(m.data()), m.type() + " bytes");
                WeightMatrix back = g.matrix(t.name());
                assertEquals(m.type(), back.type());
                assertArrayEquals(m.dequantize(), back.dequantize());
            }
            assertEquals(-1, g.tensor("raw.q5_K").data().mismatch(q5));
            assertArrayEquals(new long[] {3, 2, 256}, g.tensor("raw.q5_K").shape());
            assertEquals(-1, g.tensor("raw.i32").data().mismatch(i32));
            var e = assertThrows(IOException.class, () -> g.matrix("raw.q5_K"));
            assertTrue(e.getMessage().contains("raw.q5_K") && e.getMessage().contains("q5_K")
                    && e.getMessage().startsWith(file.toString()), e.getMessage());
            assertThrows(IOException.class, () -> g.tensor("missing"));
            assertTrue(assertThrows(IOException.class, () -> g.require("general.name")).getMessage()
                    .contains("general.name"));

            // Read, then written again: the same bytes (order, types, offsets, padding).
            GgufWriter again = new GgufWriter();
            g.metadata().forEach(again::put);
            g.tensors().values().forEach(t -> again.tensor(t.name(), t.type(), t.dims(), t.data()));
            Path copy = dir.resolve("again.gguf");
            again.write(copy);
            assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(copy));
        }
    }

    @Test
    void alignmentIsHonouredAndRecorded(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("a64.gguf");
        new GgufWriter().alignment(64)
                .tensor("x", new float[] {1, 2, 3}, 3)
                .tensor("y", new float[] {4, 5}, 1, 2)
                .write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(64, g.alignment());
            assertEquals(GgufValue.uint32(64), g.metadata().get("general.alignment"));
            assertEquals(0, g.dataStart() % 64);
            assertEquals(g.dataStart() + 64, g.tensor("y").offset(), "x's 12 bytes padded to 64");
            assertArrayEquals(new float[] {4, 5}, g.floats("y"));
            assertArrayEquals(new long[] {2, 1}, g.tensor("y").dims());
        }
        assertEquals(0, Files.size(file) % 64, "the last tensor is padded too, as llama.cpp writes it");
    }

    @Test
    void noTensorsAndClosedFiles(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("meta.gguf");
        new GgufWriter().put("general.name", GgufValue.string("only metadata")).write(file);
        GgufFile g = GgufFile.open(file);
        assertEquals("only metadata", g.require("general.name").asString());
        assertTrue(g.tensors().isEmpty());
        g.close();

        Path t = dir.resolve("t.gguf");
        new GgufWriter().tensor("x", new float[] {1, 2}, 2).write(t);
        MemorySegment data;
        try (GgufFile h = GgufFile.open(t)) {
            data = h.tensor("x").data();
            assertEquals(2f, data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
        }
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 0), "unmapped after close");
    }

    @Test
    void writerRefusesWhatNoReaderWouldAccept() {
        GgufWriter w = new GgufWriter();
        w.put("k", GgufValue.bool(false));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.bool(true)));
        assertThrows(IllegalArgumentException.class, () -> w.put("", GgufValue.bool(true)));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.int32(32)));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(48));
        MemorySegment four = MemorySegment.ofArray(new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.tensor("x".repeat(64), GgmlType.F32, new long[] {1}, four));
        assertThrows(IllegalArgumentException.class, () -> w.tensor("x", GgmlType.F32, new long[] {2}, four));
        assertThrows(IllegalArgumentException.class, () -> w.tensor("x", GgmlType.Q8_0, new long[] {1}, four));
        assertThrows(IllegalArgumentException.class, () -> w.tensor("x", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, four));
        w.tensor("x", GgmlType.F32, new long[] {1}, four);
        assertThrows(IllegalArgumentException.class, () -> w.tensor("x", GgmlType.F32, new long[] {1}, four));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufType.INT32, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.uint8(256));
    }
}
