package dev.jgpt.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.kernel.RopeTable;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Llama- and Qwen2-family model directories: Hugging Face's tensor names and shapes, shards, BF16, refusals. */
class LlamaModelDirTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final GPTConfig LLAMA = GPTConfig.llama(23, 16, 2, 4, 2, 16, 40).toBuilder().headDim(6)
            .tiedEmbeddings(false).init(InitScheme.XAVIER)
            .ropeScaling(new RopeTable.Scaling.Llama3(8.0, 1.0, 4.0, 8)).build();

    @TempDir
    Path tmp;

    @Test
    void savedLlamaHasHuggingFaceNamesAndShapesAndLoadsBack() throws IOException {
        GPT m = new GPT(LLAMA, 1);
        ModelDir.save(m, tmp);
        Map<String, SafeTensors.Tensor> t = SafeTensors.read(tmp.resolve(ModelDir.WEIGHTS));
        assertArrayEquals(new int[] {23, 16}, t.get("model.embed_tokens.weight").shape());
        assertArrayEquals(new int[] {24, 16}, t.get("model.layers.0.self_attn.q_proj.weight").shape());
        assertArrayEquals(new int[] {12, 16}, t.get("model.layers.0.self_attn.k_proj.weight").shape());
        assertArrayEquals(new int[] {12, 16}, t.get("model.layers.0.self_attn.v_proj.weight").shape());
        assertArrayEquals(new int[] {16, 24}, t.get("model.layers.1.self_attn.o_proj.weight").shape());
        assertArrayEquals(new int[] {40, 16}, t.get("model.layers.1.mlp.gate_proj.weight").shape());
        assertArrayEquals(new int[] {40, 16}, t.get("model.layers.1.mlp.up_proj.weight").shape());
        assertArrayEquals(new int[] {16, 40}, t.get("model.layers.1.mlp.down_proj.weight").shape());
        assertArrayEquals(new int[] {16}, t.get("model.layers.0.input_layernorm.weight").shape());
        assertArrayEquals(new int[] {16}, t.get("model.layers.0.post_attention_layernorm.weight").shape());
        assertArrayEquals(new int[] {16}, t.get("model.norm.weight").shape());
        assertArrayEquals(new int[] {23, 16}, t.get("lm_head.weight").shape());
        assertEquals(2 + 2 * 9 + 1, t.size(), "no extra tensors: " + t.keySet());
        // k_proj holds rows Q..Q+KV of the packed q|k|v matrix, as it was trained.
        float[] packed = m.param("model.layers.0.self_attn.qkv_proj.weight").data;
        assertArrayEquals(java.util.Arrays.copyOfRange(packed, 24 * 16, 36 * 16), t.get("model.layers.0.self_attn.k_proj.weight").data());

        var c = JSON.readTree(tmp.resolve(ModelDir.CONFIG).toFile());
        assertEquals("llama", c.get("model_type").asText());
        assertEquals(2, c.get("num_key_value_heads").asInt());
        assertEquals("llama3", c.get("rope_scaling").get("rope_type").asText());
        assertFalse(c.get("tie_word_embeddings").asBoolean());
        GPT back = ModelDir.load(tmp);
        assertEquals(LLAMA, back.config);
        int[] tokens = {1, 5, 9, 2, 22, 3};
        assertArrayEquals(m.logits(tokens, 1, 6).clone(), back.logits(tokens, 1, 6));
    }

    @Test
    void qwen2HasBiasesOnQkvOnlyAndATiedHead() throws IOException {
        GPTConfig qwen = LLAMA.toBuilder().family(Family.QWEN2).qkvBias(true).tiedEmbeddings(true).build();
        ModelDir.save(new GPT(qwen, 2), tmp);
        Map<String, SafeTensors.Tensor> t = SafeTensors.read(tmp.resolve(ModelDir.WEIGHTS));
        assertTrue(t.containsKey("model.layers.0.self_attn.q_proj.bias") && t.containsKey("model.layers.0.self_attn.v_proj.bias"));
        assertFalse(t.containsKey("model.layers.0.self_attn.o_proj.bias") || t.containsKey("model.layers.0.mlp.down_proj.bias"));
        assertFalse(t.containsKey("lm_head.weight"), "tied");
        assertEquals("qwen2", JSON.readTree(tmp.resolve(ModelDir.CONFIG).toFile()).get("model_type").asText());
        assertEquals(qwen, ModelDir.load(tmp).config);
    }

    /** Hugging Face writes big models as BF16 shards with an index; a tied head may still be stored. */
    @Test
    void bf16ShardsWithAnIndexLoad() throws IOException {
        GPT m = new GPT(LLAMA.toBuilder().tiedEmbeddings(true).build(), 3);
        Path saved = tmp.resolve("f32");
        ModelDir.save(m, saved);
        Map<String, SafeTensors.Tensor> all = SafeTensors.read(saved.resolve(ModelDir.WEIGHTS));
        all.put("lm_head.weight", all.get("model.embed_tokens.weight"));
        Path dir = Files.createDirectories(tmp.resolve("bf16"));
        Files.copy(saved.resolve(ModelDir.CONFIG), dir.resolve(ModelDir.CONFIG));
        List<String> names = new ArrayList<>(all.keySet());
        ObjectNode index = JSON.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        for (int shard = 0; shard < 2; shard++) {
            String file = "model-0000" + (shard + 1) + "-of-00002.safetensors";
            Map<String, SafeTensors.Tensor> part = new LinkedHashMap<>();
            for (int i = shard; i < names.size(); i += 2) {
                part.put(names.get(i), all.get(names.get(i)));
                map.put(names.get(i), file);
            }
            writeBf16(dir.resolve(file), part);
        }
        Files.writeString(dir.resolve(ModelDir.WEIGHTS_INDEX), index.toString());
        GPT back = ModelDir.load(dir);
        for (var p : m.parameters()) {
            float[] want = p.data, got = back.param(p.name).data;
            for (int i = 0; i < want.length; i++) {
                float bf = Float.intBitsToFloat(Float.floatToRawIntBits(want[i]) & 0xffff0000);
                assertEquals(bf, got[i], p.name + "[" + i + "] is the BF16 truncation");
            }
        }
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        IOException e = assertThrows(IOException.class, () -> ModelDir.load(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
    }

    @Test
    void configsThatChangeTheMathAreRefusedNamingTheKey() throws IOException {
        ModelDir.save(new GPT(LLAMA, 4), tmp);
        String good = Files.readString(tmp.resolve(ModelDir.CONFIG));
        assertRefused(good.replace("\"llama\"", "\"mistral\""), "model_type \"mistral\"");
        assertRefused(good.replace("\"silu\"", "\"gelu\""), "hidden_act");
        assertRefused(good.replace("\"llama3\"", "\"yarn\""), "\"yarn\"");
        assertRefused(good.replaceFirst("\\{", "{\"use_sliding_window\": true, "), "sliding-window");
        assertRefused(good.replaceFirst("\\{", "{\"num_local_experts\": 8, "), "mixture-of-experts");
        assertRefused(good.replace("\"mlp_bias\" : false", "\"mlp_bias\" : true"), "attention_bias");
    }

    /** Transformers 4.5x's rope_parameters form (theta and scaling together) reads as rope_theta + rope_scaling. */
    @Test
    void ropeParametersFormIsRead() throws IOException {
        ModelDir.save(new GPT(LLAMA, 5), tmp);
        ObjectNode c = (ObjectNode) JSON.readTree(tmp.resolve(ModelDir.CONFIG).toFile());
        ObjectNode params = c.putObject("rope_parameters");
        params.put("rope_type", "linear").put("factor", 2.0).put("rope_theta", 5000.0);
        c.remove("rope_scaling");
        c.remove("rope_theta");
        Files.writeString(tmp.resolve(ModelDir.CONFIG), c.toString());
        GPTConfig read = ModelDir.readConfig(tmp);
        assertEquals(5000.0, read.ropeTheta());
        assertEquals(new RopeTable.Scaling.Linear(2.0), read.ropeScaling());
    }

    private void assertRefused(String config, String fragment) throws IOException {
        Files.writeString(tmp.resolve(ModelDir.CONFIG), config);
        IOException e = assertThrows(IOException.class, () -> ModelDir.load(tmp));
        assertTrue(e.getMessage().contains(fragment) && e.getMessage().contains(ModelDir.CONFIG),
                "expected '" + fragment + "' in: " + e.getMessage());
    }

    /** A safetensors file with every tensor in BF16 (the top 16 bits of each float). */
    static void writeBf16(Path file, Map<String, SafeTensors.Tensor> tensors) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (SafeTensors.Tensor t : tensors.values()) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "BF16");
            var shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            e.putArray("data_offsets").add(offset).add(offset + 2L * t.data().length);
            offset += 2L * t.data().length;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        for (SafeTensors.Tensor t : tensors.values()) {
            for (float v : t.data()) {
                b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        Files.write(file, b.array());
    }
}
