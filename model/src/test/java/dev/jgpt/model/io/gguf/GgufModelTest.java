package dev.jgpt.model.io.gguf;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.Param;
import dev.jgpt.model.Quantize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models through GGUF files: export then read gives the source's logits exactly in f32, and in a
 * quantized type exactly those of the model quantized in memory (the file's blocks are the bytes
 * {@link Quantize} makes, used in place); llama.cpp's names, keys and q/k row order; bad files.
 */
class GgufModelTest {
    @TempDir
    Path dir;

    /** GPT-2's block; Llama's with grouped-query heads and an untied head; Qwen2's q/k/v biases. Widths split into 256-blocks. */
    static List<GPTConfig> configs() {
        GPTConfig gpt2 = GPTConfig.of(97, 32, 2, 4, 256).toBuilder().intermediateSize(512).build();
        GPTConfig llama = GPTConfig.llama(101, 64, 2, 8, 2, 256, 512).toBuilder().tiedEmbeddings(false).build();
        GPTConfig qwen2 = llama.toBuilder().family(Family.QWEN2).qkvBias(true).ropeTheta(1e6).build();
        return List.of(gpt2, llama, qwen2);
    }

    private static final int[] TOKENS = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};

    private static float[] logits(GPT m) {
        return m.logits(TOKENS, 2, 8).clone();
    }

    private Path export(GPT m, WeightType type, String name) throws IOException {
        Path f = dir.resolve(name + ".gguf");
        GgufModel.write(m, new GgufModel.ExportOptions(type, name, Map.of()), f);
        return f;
    }

    @Test
    void f32RoundTripIsExact() throws IOException {
        for (GPTConfig c : configs()) {
            GPT source = new GPT(c, 7);
            try (GgufFile f = GgufFile.open(export(source, WeightType.F32, c.family().id()))) {
                assertEquals(c.family().id(), f.require("general.architecture").asString());
                GPT read = GgufModel.load(f);
                assertEquals(c, GgufModel.config(f), c.family().id());
                for (Param p : read.parameters()) {
                    assertFalse(p.isPacked(), p.name);
                    assertArrayEquals(source.param(p.name).data, p.data, p.name);
                }
                assertArrayEquals(logits(source), logits(read), c.family().id());
            }
        }
    }

    @Test
    void quantizedFileEqualsQuantizingInMemory() throws IOException {
        for (GPTConfig c : configs()) {
            GPT source = new GPT(c, 11);
            float[] exact = logits(source);
            for (WeightType t : List.of(WeightType.F16, WeightType.BF16, WeightType.Q8_0, WeightType.Q4_0,
                    WeightType.Q4_K, WeightType.Q6_K)) {
                String what = c.family() + " " + t;
                GPT inMemory = Quantize.packed(source, t);
                try (GgufFile f = GgufFile.open(export(source, t, c.family().id() + "-" + t))) {
                    GPT read = GgufModel.load(f);
                    for (Param p : read.parameters()) {
                        Param q = inMemory.param(p.name);
                        assertEquals(q.isPacked(), p.isPacked(), what + " " + p.name);
                        if (p.isPacked()) {
                            assertEquals(Quantize.typeOf(source, source.param(p.name), t), p.packed().getFirst().type(), p.name);
                            for (int i = 0; i < p.packed().size(); i++) {
                                WeightMatrix m = p.packed().get(i);
                                for (int r = 0; r < m.rows(); r++) {
                                    assertEquals(-1L, m.row(r).mismatch(q.packed().get(i).row(r)), what + " " + p.name + " row " + r);
                                }
                            }
                        }
                    }
                    float[] got = logits(read);
                    assertArrayEquals(logits(inMemory), got, what);
                    double err = 0, norm = 0;
                    for (int i = 0; i < got.length; i++) {
                        err += (got[i] - exact[i]) * (got[i] - exact[i]);
                        norm += exact[i] * exact[i];
                    }
                    // a real quantization: close to f32 but not equal to it
                    double bound = t == WeightType.Q4_0 || t == WeightType.Q4_K ? 0.3
                            : t == WeightType.Q8_0 || t == WeightType.Q6_K ? 0.05 : 0.01;
                    assertTrue(Math.sqrt(err / norm) < bound,
                            what + ": relative error " + Math.sqrt(err / norm));
                    assertTrue(err > 0, what);
                }
            }
        }
    }

    @Test
    void packedMatricesUseTheMappingInPlace() throws IOException {
        GPT source = new GPT(configs().get(1), 3);
        try (GgufFile f = GgufFile.open(export(source, WeightType.Q8_0, "mapped"))) {
            GPT read = GgufModel.load(f);
            Param down = read.param("model.layers.1.mlp.down_proj.weight");
            assertTrue(down.isPacked());
            assertNull(down.data);
            MemorySegment tensor = f.tensor("blk.1.ffn_down.weight").data();
            assertEquals(tensor.address(), down.packed().getFirst().data().address(), "used in place, not copied");
            // Llama's q rows are read in Hugging Face's order, in place too (GGUF's row order[r] as row r)
            Param qkv = read.param("model.layers.0.self_attn.qkv_proj.weight");
            WeightMatrix q = qkv.packed().getFirst();
            assertEquals(WeightType.Q8_0, q.type());
            int[] order = GgufModel.hfRowOrder(q.rows(), source.config.nHead());
            MemorySegment qTensor = f.tensor("blk.0.attn_q.weight").data();
            for (int r = 0; r < q.rows(); r++) {
                assertEquals(qTensor.address() + order[r] * q.rowBytes(), q.row(r).address(), "q row " + r);
            }
            assertNotEquals(1, order[1], "the order is not the identity");
            assertThrows(IllegalStateException.class, down::grad, "packed weights do not train");
        }
    }

    @Test
    void llamaCppNamesAndKeys() throws IOException {
        GPTConfig c = configs().get(1);
        try (GgufFile f = GgufFile.open(export(new GPT(c, 1), WeightType.Q4_K, "names"))) {
            assertEquals(List.of("token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                    "blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_gate.weight",
                    "blk.0.ffn_up.weight", "blk.0.ffn_down.weight"), f.tensors().keySet().stream().limit(10).toList());
            assertEquals(GgmlType.Q6_K, f.tensor("output.weight").type(), "the head of a 4-bit file");
            assertEquals(GgmlType.Q4_K, f.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.F32, f.tensor("output_norm.weight").type());
            assertArrayEquals(new long[] {256, 64}, f.tensor("blk.0.attn_k.weight").dims(), "ggml dims: [in, out]");
            assertEquals(2, f.require("llama.attention.head_count_kv").asInt());
            assertEquals(8, f.require("llama.attention.head_count").asInt());
            assertEquals(512, f.require("llama.feed_forward_length").asInt());
            assertEquals(32, f.require("llama.rope.dimension_count").asInt());
            assertEquals(14, f.require("general.file_type").asInt());
        }
        try (GgufFile f = GgufFile.open(export(new GPT(configs().getFirst(), 1), WeightType.Q8_0, "gpt2names"))) {
            assertEquals(GgmlType.F32, f.tensor("position_embd.weight").type(), "llama.cpp keeps positions in f32");
            assertArrayEquals(new long[] {256, 768}, f.tensor("blk.0.attn_qkv.weight").dims());
            assertFalse(f.tensors().containsKey("output.weight"), "tied head: llama.cpp reuses token_embd");
            assertEquals(1e-5f, (float) f.require("gpt2.attention.layer_norm_epsilon").asDouble());
        }
    }

    @Test
    void llamaQkRowsArePermutedAsLlamaCppsConverterDoes() {
        // one head of 4 rows: HF rows [a0 a1 | b0 b1] (halves) become GGUF rows [a0 b0 a1 b1] (pairs)
        float[] hf = {0, 1, 2, 3, 10, 11, 12, 13};   // 2 heads of d = 4, one column
        float[] gguf = GgufModel.permuteRows(hf, 1, 2, false);
        assertArrayEquals(new float[] {0, 2, 1, 3, 10, 12, 11, 13}, gguf);
        assertArrayEquals(hf, GgufModel.permuteRows(gguf, 1, 2, true));
        assertEquals("blk.3.attn_k.bias", GgufModel.ggufName("model.layers.3.self_attn.k_proj.bias", Family.QWEN2));
        assertEquals("blk.0.ffn_up.weight", GgufModel.ggufName("transformer.h.0.mlp.c_fc.weight", Family.GPT2));
        assertNull(GgufModel.ggufName("transformer.h.0.attn_alpha", Family.GPT2));
    }

    @Test
    void modelsLlamaCppHasNoArchitectureForAreRefused() {
        GPTConfig sandwich = configs().getFirst().withLayout(dev.jgpt.model.ResidualLayout.SANDWICH);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> export(new GPT(sandwich, 1), WeightType.F32, "sandwich"));
        assertTrue(e.getMessage().contains("sandwich"), e.getMessage());
    }

    // ---- bad files: one IOException naming the file and the key or tensor ----

    private void bad(GgufWriter w, String name, String... fragments) throws IOException {
        Path p = dir.resolve(name + ".gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            IOException e = assertThrows(IOException.class, () -> GgufModel.load(f), name);
            assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            for (String s : fragments) {
                assertTrue(e.getMessage().contains(s), name + ": \"" + e.getMessage() + "\" lacks \"" + s + "\"");
            }
        }
    }

    /** A valid tiny gpt2 file's content, re-read as a writer so a test can change one thing. */
    private GgufWriter copyOf(Path file, String dropKey, String dropTensor, Map<String, GgufValue> override) throws IOException {
        GgufWriter w = new GgufWriter();
        try (GgufFile f = GgufFile.open(file)) {
            for (var kv : f.metadata().entrySet()) {
                if (!kv.getKey().equals(dropKey)) {
                    w.put(kv.getKey(), override.getOrDefault(kv.getKey(), kv.getValue()));
                }
            }
            for (GgufTensor t : f.tensors().values()) {
                if (!t.name().equals(dropTensor)) {
                    MemorySegment copy = MemorySegment.ofArray(t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                    w.tensor(t.name(), t.type(), t.dims(), copy);
                }
            }
        }
        return w;
    }

    @Test
    void badFilesNameTheProblem() throws IOException {
        Path ok = export(new GPT(configs().getFirst(), 5), WeightType.Q8_0, "ok");
        bad(copyOf(ok, null, null, Map.of("general.architecture", GgufValue.string("mamba"))), "arch",
                "architecture 'mamba'", "gpt2, llama, qwen2");
        bad(copyOf(ok, "gpt2.block_count", null, Map.of()), "nokey", "gpt2.block_count");
        bad(copyOf(ok, null, "blk.1.ffn_down.weight", Map.of()), "notensor", "blk.1.ffn_down.weight");
        bad(copyOf(ok, null, null, Map.of("gpt2.feed_forward_length", GgufValue.uint32(384))), "dims",
                "blk.0.ffn_up.weight", "[256, 384]");
        GgufWriter extra = copyOf(ok, null, null, Map.of());
        extra.tensor("blk.0.mystery.weight", new float[] {1, 2}, 2);
        bad(extra, "extra", "blk.0.mystery.weight");
        // a type jgpt has no kernels for: q5_K blocks of the right size
        GgufWriter q5 = copyOf(ok, null, "blk.0.ffn_down.weight", Map.of());
        q5.tensor("blk.0.ffn_down.weight", GgmlType.Q5_K, new long[] {512, 256},
                MemorySegment.ofArray(new byte[512 / 256 * 176 * 256]));
        bad(q5, "q5k", "blk.0.ffn_down.weight", "q5_K");
    }

    @Test
    void quantizedModelsAreCloseToF32AndKeepVectorsExact() {
        GPT source = new GPT(configs().get(2), 9);
        GPT q8 = Quantize.packed(source, WeightType.Q8_0);
        Param bias = q8.param("model.layers.0.self_attn.qkv_proj.bias");
        assertFalse(bias.isPacked());
        assertArrayEquals(source.param(bias.name).data, bias.data);
        assertEquals(WeightType.Q8_0, q8.param("model.embed_tokens.weight").packed().getFirst().type());
        assertEquals(WeightType.Q8_0, q8.param("lm_head.weight").packed().getFirst().type());
        assertEquals(WeightType.Q6_K, Quantize.packed(source, WeightType.Q4_0).param("lm_head.weight").packed().getFirst().type());
    }
}
