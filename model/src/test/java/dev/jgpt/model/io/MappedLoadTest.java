package dev.jgpt.model.io;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ModelDir#loadMapped}: the matrices used in place from the safetensors file compute what the copied
 * model computes (the same weights; sums in another order, so within float rounding), through the prompt's
 * matrix products and the decode's matrix-vector products, and greedy decoding picks the same tokens.
 */
class MappedLoadTest {
    /** Largest |mapped − heap| logit over the largest |heap| logit: float rounding of a few layers' sums. */
    static final double RELATIVE_TOLERANCE = 2e-5;
    /** At least Linear's prompt-matmul rows (16), so the prompt takes the matrix-matrix products. */
    static final int[] PROMPT = {1, 5, 36, 2, 2, 9, 0, 17, 40, 3, 3, 22, 61, 8, 13, 30, 4, 11, 7};

    @TempDir
    Path tmp;

    @Test
    void gpt2ConvWeightsAreUsedTransposedInPlaceAndGiveTheCopiedModelsLogits() throws IOException {
        GPT m = new GPT(GPTConfig.of(67, 32, 2, 2, 20), 5);
        randomizeVectors(m);
        ModelDir.save(m, tmp);
        GPT mapped = ModelDir.loadMapped(tmp);
        WeightMatrix attn = mapped.param("transformer.h.0.attn.c_attn.weight").packed().getFirst();
        assertTrue(attn.isTransposed(), "Conv1D weight used as stored, [in, out]");
        assertEquals(60, attn.rows());
        WeightMatrix wte = mapped.param("transformer.wte.weight").packed().getFirst();
        assertFalse(wte.isTransposed());
        assertEquals(WeightType.F32, wte.type());
        assertFalse(mapped.param("transformer.wpe.weight").isPacked(), "the small position table is copied");
        assertFalse(mapped.param("transformer.h.1.ln_2.bias").isPacked());
        float[] row = new float[80];
        mapped.param("transformer.h.1.mlp.c_proj.weight").copyRow(7, row, 0);
        assertArrayEquals(Arrays.copyOfRange(m.param("transformer.h.1.mlp.c_proj.weight").data, 7 * 80, 8 * 80), row);
        assertSameComputation(ModelDir.load(tmp), mapped);
    }

    @Test
    void llamaProjectionsAreOnePartPerStoredTensorAndGiveTheCopiedModelsLogits() throws IOException {
        GPT m = new GPT(LlamaModelDirTest.LLAMA.toBuilder().blockSize(32).build(), 6);
        ModelDir.save(m, tmp);
        GPT mapped = ModelDir.loadMapped(tmp);
        Param qkv = mapped.param("model.layers.0.self_attn.qkv_proj.weight");
        assertEquals(3, qkv.packed().size(), "q, k and v each in place");
        assertEquals(2, mapped.param("model.layers.1.mlp.gate_up_proj.weight").packed().size());
        assertTrue(mapped.param("lm_head.weight").isPacked());
        assertNull(mapped.param("model.norm.weight").packed());
        assertSameComputation(ModelDir.load(tmp), mapped);
    }

    /** The types the matrices are mapped in, read from the headers (sharded files too): what the warm-up warms. */
    @Test
    void matrixTypesAreTheStoredOnes() throws Exception {
        ModelDir.save(new GPT(GPTConfig.of(11, 8, 1, 2, 8), 1), tmp);
        assertEquals(java.util.Set.of(WeightType.F32), ModelDir.matrixTypes(tmp));
        assertEquals(java.util.Set.of(WeightType.BF16), ModelDir.matrixTypes(HuggingFaceParityTest.fixture("llama-mqa-bf16-sharded")));
        assertEquals(java.util.Set.of(WeightType.F16), ModelDir.matrixTypes(HuggingFaceParityTest.fixture("llama-mha-f16-invfreq")));
        Param q = ModelDir.loadMapped(HuggingFaceParityTest.fixture("llama-mha-f16-invfreq"))
                .param("model.layers.0.self_attn.qkv_proj.weight");
        assertEquals(WeightType.F16, q.packed().getFirst().type(), "kept in its stored type");
    }

    /** A file cut short after its header was read is one clear error, not a crash (the header check catches it first). */
    @Test
    void aTruncatedFileIsRefusedNamingIt() throws IOException {
        ModelDir.save(new GPT(GPTConfig.of(11, 8, 1, 2, 8), 1), tmp);
        Path weights = tmp.resolve(ModelDir.WEIGHTS);
        try (var ch = Files.newByteChannel(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 4);
        }
        IOException e = assertThrows(IOException.class, () -> ModelDir.loadMapped(tmp));
        assertTrue(e.getMessage().contains(weights.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    /** Biases and norms are zero and one at init: random ones make a mix-up of them show. */
    static void randomizeVectors(GPT m) {
        var r = new java.util.SplittableRandom(3);
        for (Param p : m.parameters()) {
            if (p.shape.length == 1) {
                for (int i = 0; i < p.data.length; i++) {
                    p.data[i] = (float) r.nextGaussian(p.name.endsWith(".bias") ? 0 : 1, 0.3);
                }
            }
        }
    }

    static void assertSameComputation(GPT heap, GPT mapped) {
        int V = heap.config.vocabSize();
        int[] prompt = Arrays.stream(PROMPT).map(t -> t % V).toArray();
        float[] want = heap.logits(prompt, 1, prompt.length).clone(), got = mapped.logits(prompt, 1, prompt.length);
        for (int t = 0; t < prompt.length; t++) {
            assertClose(Arrays.copyOfRange(want, t * V, (t + 1) * V), Arrays.copyOfRange(got, t * V, (t + 1) * V),
                    "full forward, position " + t);
        }
        InferenceSession a = new InferenceSession(heap, 32), b = new InferenceSession(mapped, 32);
        float[] la = a.append(prompt).clone(), lb = b.append(prompt);
        int[] ta = new int[8], tb = new int[8];
        for (int i = 0; i < ta.length; i++) {
            assertClose(la, lb, "decode step " + i);
            ta[i] = HuggingFaceParityTest.argmax(la);
            tb[i] = HuggingFaceParityTest.argmax(lb);
            la = a.append(ta[i]).clone();
            lb = b.append(tb[i]);
        }
        assertArrayEquals(ta, tb, "greedy continuation");
        int[] shortPrompt = Arrays.copyOf(prompt, 9);   // below Linear's prompt-matmul rows: the rows' matrix-vector products
        assertClose(new InferenceSession(heap, 32).append(shortPrompt), new InferenceSession(mapped, 32).append(shortPrompt),
                "a short prompt");
    }

    static void assertClose(float[] want, float[] got, String what) {
        HuggingFaceParityTest.assertClose(want, got, RELATIVE_TOLERANCE, what);
    }
}
