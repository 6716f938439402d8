package dev.jgpt.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.kernel.RopeTable;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.InitScheme;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with Hugging Face's LlamaForCausalLM and Qwen2ForCausalLM. The fixtures under
 * {@code hf-tiny/} are tiny random checkpoints in the hub's exact layout, made and scored by a PyTorch
 * transcription of both (model/src/test/python/llama_reference.py): F32, F16 and BF16; one file and
 * shards with an index; grouped-, multi-query and full attention; tied and untied heads; llama3 and
 * linear rope scaling; an explicit head_dim; Qwen2's q/k/v biases. Each holds a prompt, the reference's
 * greedy continuation and its logits at every position of both.
 */
class HuggingFaceParityTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Largest |jgpt − reference| logit over the largest |reference| logit. */
    static final double RELATIVE_TOLERANCE = 1e-4;

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(HuggingFaceParityTest.class.getResource("/hf-tiny/" + name + "/config.json").toURI()).getParent();
    }

    /** Loaded into arrays ({@link ModelDir#load}) or used in place ({@link ModelDir#loadMapped}: f32, f16, bf16 matrices). */
    static GPT load(String name, boolean mapped) throws Exception {
        return mapped ? ModelDir.loadMapped(fixture(name)) : ModelDir.load(fixture(name));
    }

    /** The full forward over prompt + continuation gives the reference's logits at every position. */
    @ParameterizedTest
    @CsvSource({"llama-gqa-f32, false", "llama-mqa-bf16-sharded, false", "llama-mha-f16-invfreq, false",
            "qwen2-gqa-bf16-sharded, false", "llama-gqa-f32, true", "llama-mqa-bf16-sharded, true",
            "llama-mha-f16-invfreq, true", "qwen2-gqa-bf16-sharded, true"})
    void logitsAgreeWithTheReference(String name, boolean mapped) throws Exception {
        Expected e = Expected.read(fixture(name));
        GPT m = load(name, mapped);
        int[] all = e.sequence();
        float[] logits = m.logits(all, 1, all.length);
        int V = m.config.vocabSize();
        for (int t = 0; t < all.length; t++) {
            assertClose(e.logits[t], Arrays.copyOfRange(logits, t * V, (t + 1) * V), name + " position " + t);
        }
    }

    /**
     * Greedy decoding through the KV cache — the prompt as one prefill, then one token at a time — picks
     * the reference's tokens, with the reference's logits at every step.
     */
    @ParameterizedTest
    @CsvSource({"llama-gqa-f32, false", "llama-mqa-bf16-sharded, false", "llama-mha-f16-invfreq, false",
            "qwen2-gqa-bf16-sharded, false", "llama-gqa-f32, true", "llama-mqa-bf16-sharded, true",
            "llama-mha-f16-invfreq, true", "qwen2-gqa-bf16-sharded, true"})
    void greedyDecodingThroughTheCacheGivesTheReferenceTokens(String name, boolean mapped) throws Exception {
        Expected e = Expected.read(fixture(name));
        InferenceSession session = new InferenceSession(load(name, mapped), e.sequence().length);
        float[] logits = session.append(e.prompt);
        int[] generated = new int[e.greedy.length];
        for (int i = 0; i < generated.length; i++) {
            int position = e.prompt.length - 1 + i;
            assertClose(e.logits[position], logits, name + " decode step " + i + " (position " + position + ")");
            generated[i] = argmax(logits);
            logits = session.append(generated[i]);
        }
        assertEquals(Arrays.toString(e.greedy), Arrays.toString(generated), name + ": greedy continuation");
    }

    /** What each fixture claims to exercise is what the loader read from its config.json. */
    @Test
    void fixturesCoverTheVariantsTheyName() throws Exception {
        GPTConfig gqa = ModelDir.readConfig(fixture("llama-gqa-f32"));
        assertEquals(List.of(Family.LLAMA, 4, 2, 8, 24, false), List.of(gqa.family(), gqa.nHead(), gqa.nKvHead(),
                gqa.headDim(), gqa.nEmbd(), gqa.tiedEmbeddings()));
        assertEquals(new RopeTable.Scaling.Llama3(8.0, 1.0, 4.0, 64), gqa.ropeScaling());
        GPTConfig mqa = ModelDir.readConfig(fixture("llama-mqa-bf16-sharded"));
        assertEquals(List.of(1, true, 500000.0), List.of(mqa.nKvHead(), mqa.tiedEmbeddings(), mqa.ropeTheta()));
        assertEquals(new RopeTable.Scaling.Linear(2.0), mqa.ropeScaling());
        GPTConfig mha = ModelDir.readConfig(fixture("llama-mha-f16-invfreq"));
        assertEquals(List.of(4, 6, false), List.of(mha.nKvHead(), mha.headDim(), mha.tiedEmbeddings()));
        GPTConfig qwen = ModelDir.readConfig(fixture("qwen2-gqa-bf16-sharded"));
        assertEquals(List.of(Family.QWEN2, true, false, true, 1e6), List.of(qwen.family(), qwen.qkvBias(), qwen.bias(),
                qwen.tiedEmbeddings(), qwen.ropeTheta()));
        assertTrue(Files.isRegularFile(fixture("qwen2-gqa-bf16-sharded").resolve(ModelDir.WEIGHTS_INDEX)));
    }

    /**
     * The reverse direction: jgpt models with Llama's and Qwen2's blocks written to model/target, with
     * their logits and greedy continuation, for the reference to load and score:
     * {@code python3 model/src/test/python/llama_reference.py check model/target/jgpt-llama-model}
     * (and {@code jgpt-qwen2-model}).
     */
    @Test
    void exportForReferenceCheck() throws Exception {
        GPTConfig llama = GPTConfig.llama(37, 64, 2, 4, 2, 16, 40).toBuilder().headDim(6).tiedEmbeddings(false)
                .init(InitScheme.XAVIER).ropeTheta(500000.0)
                .ropeScaling(new RopeTable.Scaling.Llama3(8.0, 1.0, 4.0, 16)).build();
        GPTConfig qwen = GPTConfig.llama(37, 64, 2, 4, 1, 16, 40).toBuilder().family(Family.QWEN2).qkvBias(true)
                .init(InitScheme.XAVIER).ropeTheta(1e6).build();
        export(new GPT(llama, 8), Path.of("target", "jgpt-llama-model"));
        export(new GPT(qwen, 9), Path.of("target", "jgpt-qwen2-model"));
    }

    private static void export(GPT m, Path dir) throws Exception {
        // Biases are zero at init; random ones make the reference's use of them (Qwen2: q, k, v only) count.
        var r = new java.util.SplittableRandom(3);
        m.parameters().stream().filter(p -> p.name.endsWith(".bias"))
                .forEach(p -> { for (int i = 0; i < p.data.length; i++) p.data[i] = (float) r.nextGaussian(0, 0.3); });
        ModelDir.save(m, dir);
        int[] prompt = {1, 5, 36, 2, 2, 9, 0, 17};
        int V = m.config.vocabSize();
        InferenceSession session = new InferenceSession(m, 16);
        float[] logits = session.append(prompt);
        List<Integer> greedy = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            greedy.add(argmax(logits));
            logits = session.append(greedy.getLast());
        }
        float[] full = m.logits(prompt, 1, prompt.length);
        ObjectNode root = JSON.createObjectNode();
        root.set("tokens", JSON.valueToTree(prompt));
        root.set("greedy", JSON.valueToTree(greedy));
        ArrayNode rows = root.putArray("logits");
        for (int t = 0; t < prompt.length; t++) {
            rows.add(JSON.valueToTree(Arrays.copyOfRange(full, t * V, (t + 1) * V)));
        }
        Files.writeString(dir.resolve("jgpt-logits.json"), root.toString());
        assertEquals(m.config, ModelDir.load(dir).config);
    }

    static void assertClose(float[] want, float[] got, String what) {
        assertClose(want, got, RELATIVE_TOLERANCE, what);
    }

    /** max |want − got| ≤ tolerance × max |want|, over logits that are not all zero. */
    static void assertClose(float[] want, float[] got, double tolerance, String what) {
        double maxDiff = 0, scale = 0;
        for (int v = 0; v < want.length; v++) {
            maxDiff = Math.max(maxDiff, Math.abs(want[v] - got[v]));
            scale = Math.max(scale, Math.abs(want[v]));
        }
        assertTrue(scale > 0 && maxDiff <= tolerance * scale, what + ": max |want − got| " + maxDiff
                + " exceeds " + tolerance + " × the largest logit " + scale);
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** expected.json: the prompt, the reference's greedy continuation, its logits at every position of both. */
    record Expected(int[] prompt, int[] greedy, float[][] logits) {
        static Expected read(Path dir) throws Exception {
            JsonNode e = JSON.readTree(dir.resolve("expected.json").toFile());
            return new Expected(JSON.convertValue(e.get("tokens"), int[].class),
                    JSON.convertValue(e.get("greedy"), int[].class), JSON.convertValue(e.get("logits"), float[][].class));
        }

        int[] sequence() {
            int[] all = Arrays.copyOf(prompt, prompt.length + greedy.length);
            System.arraycopy(greedy, 0, all, prompt.length, greedy.length);
            return all;
        }
    }
}
