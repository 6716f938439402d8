package dev.jgpt.model.io.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * GGUF between jgpt and llama.cpp's own code (gguf.cpp), both ways, with
 * model/src/test/python/gguf_llamacpp.py (which calls llama.cpp's libggml-base.so through ctypes):
 * llamacpp-written.gguf was written by llama.cpp and must read as the script wrote it; and the file
 * this test writes to model/target/gguf-check/ is for the script's {@code check}, which has llama.cpp
 * read it and compare every key, type, value, tensor info and tensor hash with the JSON written
 * beside it. (Nested arrays are left out of that file: llama.cpp's reader refuses them.)
 */
class GgufLlamaCppTest {
    @Test
    void readsAFileLlamaCppWrote() throws Exception {
        var url = GgufLlamaCppTest.class.getResource("llamacpp-written.gguf");
        assertNotNull(url, "test resource dev/jgpt/model/io/gguf/llamacpp-written.gguf is missing");
        try (GgufFile g = GgufFile.open(Path.of(url.toURI()))) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            Map<String, GgufValue> m = g.metadata();
            assertEquals(List.of("general.architecture", "v.uint8", "v.int8", "v.uint16", "v.int16", "v.uint32", "v.int32",
                    "v.float32", "v.bool", "v.uint64", "v.int64", "v.float64", "v.string", "a.string", "a.int32", "a.float32"),
                    List.copyOf(m.keySet()));
            assertEquals(GgufValue.string("llama"), m.get("general.architecture"));
            assertEquals(GgufValue.uint8(200), m.get("v.uint8"));
            assertEquals(GgufValue.int8(-100), m.get("v.int8"));
            assertEquals(GgufValue.uint16(60000), m.get("v.uint16"));
            assertEquals(GgufValue.int16(-30000), m.get("v.int16"));
            assertEquals(GgufValue.uint32(4000000000L), m.get("v.uint32"));
            assertEquals(GgufValue.int32(-2000000000), m.get("v.int32"));
            assertEquals(GgufValue.float32(1.5f), m.get("v.float32"));
            assertEquals(GgufValue.bool(true), m.get("v.bool"));
            assertEquals(GgufValue.uint64(Long.MIN_VALUE + 5), m.get("v.uint64"), "2^63 + 5");
            assertEquals(GgufValue.int64(-(1L << 62)), m.get("v.int64"));
            assertEquals(GgufValue.float64(-2.25), m.get("v.float64"));
            assertEquals(GgufValue.string("Ġnaïve 🎉"), m.get("v.string"));
            assertEquals(GgufValue.strings("a", "", "Ġb"), m.get("a.string"));
            assertArrayEquals(new int[] {1, -2, 3, -4}, m.get("a.int32").asInts());
            assertArrayEquals(new float[] {0.25f, -8f}, m.get("a.float32").asFloats());
            Object[][] tensors = {{"t.f32", GgmlType.F32, new long[] {5, 3}}, {"t.q8_0", GgmlType.Q8_0, new long[] {64, 2}},
                    {"t.q4_K", GgmlType.Q4_K, new long[] {256}}};
            assertEquals(3, g.tensors().size());
            for (int k = 0; k < tensors.length; k++) {
                GgufTensor t = g.tensor((String) tensors[k][0]);
                assertEquals(tensors[k][1], t.type());
                assertArrayEquals((long[]) tensors[k][2], t.dims());
                assertEquals(0, (t.offset() - g.dataStart()) % 32);
                byte[] b = t.data().toArray(ValueLayout.JAVA_BYTE);
                for (int i = 0; i < b.length; i++) {
                    assertEquals((byte) ((i * 7 + k) % 256), b[i], t.name() + " byte " + i);
                }
            }
            assertEquals(15 * 4, g.tensor("t.f32").byteSize());
            assertEquals(4 * 34, g.tensor("t.q8_0").byteSize());
            assertEquals(144, g.tensor("t.q4_K").byteSize());
        }
    }

    @Test
    void writesTheCrossCheckFileForLlamaCpp() throws Exception {
        Map<String, GgufValue> meta = new java.util.LinkedHashMap<>(GgufRoundTripTest.everyKind());
        meta.remove("a.nested");
        Path dir = Path.of("target", "gguf-check");
        Files.createDirectories(dir);
        Path file = dir.resolve("jgpt.gguf");
        GgufWriter w = new GgufWriter().alignment(64);
        meta.forEach(w::put);
        SplittableRandom rng = new SplittableRandom(9);
        for (WeightType t : WeightType.values()) {
            int rows = 2 + t.ordinal(), cols = t.blockSize == 256 ? 512 : 96;
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rng.nextGaussian();
            }
            w.tensor("w." + t.ggmlName(), WeightMatrix.quantize(t, v, rows, cols));
        }
        w.tensor("bias", new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        w.write(file);

        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        try (GgufFile g = GgufFile.open(file)) {
            root.put("version", g.version());
            root.put("alignment", g.alignment());
            ObjectNode md = root.putObject("metadata");
            g.metadata().forEach((k, v) -> md.set(k, describe(json, v)));
            ArrayNode ts = root.putArray("tensors");
            for (GgufTensor t : g.tensors().values()) {
                ObjectNode o = ts.addObject();
                o.put("name", t.name());
                o.put("type", t.type().id);
                ArrayNode ne = o.putArray("ne");
                for (int d = 0; d < 4; d++) {
                    ne.add(d < t.dims().length ? t.dims()[d] : 1);
                }
                o.put("offset", t.offset() - g.dataStart());
                o.put("bytes", t.byteSize());
                o.put("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(t.data().toArray(ValueLayout.JAVA_BYTE))));
            }
        }
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("jgpt.json").toFile(), root);
    }

    /** A value as gguf_llamacpp.py's read() describes what llama.cpp sees. */
    private static ObjectNode describe(ObjectMapper json, GgufValue v) {
        ObjectNode o = json.createObjectNode();
        o.put("type", v.type().name());
        if (v.type() != GgufType.ARRAY) {
            o.set("value", element(json, v.type(), v.raw()));
            return o;
        }
        o.put("element", v.elementType().name());
        ArrayNode values = o.putArray("values");
        Object a = v.raw();
        for (int i = 0; i < v.length(); i++) {
            Object e = switch (a) {
                case byte[] b -> v.elementType() == GgufType.UINT8 ? b[i] & 0xff : (int) b[i];
                case short[] s -> v.elementType() == GgufType.UINT16 ? s[i] & 0xffff : (int) s[i];
                case int[] n -> v.elementType() == GgufType.UINT32 ? Integer.toUnsignedLong(n[i]) : (long) n[i];
                case long[] l -> l[i];
                case float[] f -> f[i];
                case double[] d -> d[i];
                case boolean[] z -> z[i];
                case String[] s -> s[i];
                default -> throw new IllegalStateException(v.toString());
            };
            values.add(element(json, v.elementType(), e));
        }
        return o;
    }

    private static com.fasterxml.jackson.databind.JsonNode element(ObjectMapper json, GgufType type, Object e) {
        var f = json.getNodeFactory();
        return switch (type) {
            case FLOAT32, FLOAT64 -> {
                double d = ((Number) e).doubleValue();
                yield Double.isNaN(d) ? f.textNode("NaN") : Double.isInfinite(d) ? f.textNode(d > 0 ? "Infinity" : "-Infinity")
                        : f.numberNode(d);
            }
            case UINT64 -> f.numberNode(new BigInteger(Long.toUnsignedString((Long) e)));
            case BOOL -> f.booleanNode((Boolean) e);
            case STRING -> f.textNode((String) e);
            default -> f.numberNode(((Number) e).longValue());
        };
    }
}
