package dev.jgpt.model;

import dev.jgpt.kernel.quant.WeightType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model whose matrices are packed in a quantized type runs inference as the f32 model's layers do. */
class QuantizeTest {
    /**
     * Continuous batching with packed weights: several sequences in one cached forward give each exactly
     * the logits it gets alone (every decode row is a matrix-vector product of its own, a long prompt one
     * matrix product), and the cached logits equal a full forward's last row.
     */
    @Test
    void aBatchOfSequencesEqualsEachAloneWithPackedWeights() {
        int V = 11;
        GPT f32 = new GPT(GPTConfig.llama(V, 32, 2, 4, 1, 64, 96).toBuilder().init(InitScheme.XAVIER).build(), 8);
        for (WeightType t : new WeightType[] {WeightType.Q8_0, WeightType.Q4_0, WeightType.BF16}) {
            GPT m = Quantize.packed(f32, t);
            float[] cached = InferenceSessionTest.assertBatchEqualsAlone(m);
            int[] longPrompt = IntStream.range(0, Linear.PROMPT_MATMUL_ROWS + 3).map(i -> i % V).toArray();
            float[] full = m.logits(longPrompt, 1, longPrompt.length);
            float[] last = Arrays.copyOfRange(full, (longPrompt.length - 1) * V, longPrompt.length * V);
            for (int v = 0; v < V; v++) {
                assertEquals(last[v], cached[v], 1e-4f * (1 + Math.abs(last[v])), t + " logit " + v);
            }
        }
    }

    @Test
    void packedParametersHoldNoF32ValuesAndDoNotTrain() {
        GPT f32 = new GPT(GPTConfig.of(50, 16, 1, 2, 64), 1);
        GPT q = Quantize.packed(f32, WeightType.Q8_0);
        Param wte = q.param("transformer.wte.weight");
        assertTrue(wte.isPacked());
        assertNull(wte.data);
        assertEquals(f32.parameterCount(), q.parameterCount());
        assertEquals(WeightType.F32, Quantize.typeOf(f32, f32.param("transformer.wpe.weight"), WeightType.Q8_0));
        assertEquals(WeightType.Q8_0, Quantize.typeOf(f32, f32.param("transformer.wte.weight"), WeightType.Q4_K),
                "the tied head of a 4-bit model: q6_K, here q8_0 since rows of 64 do not split into 256-blocks");
        GPT wide = new GPT(GPTConfig.of(50, 16, 1, 2, 256), 1);
        assertEquals(WeightType.Q6_K, Quantize.typeOf(wide, wide.param("transformer.wte.weight"), WeightType.Q4_0));
        assertEquals(WeightType.Q4_0, Quantize.typeOf(wide, wide.param("transformer.h.0.mlp.c_fc.weight"), WeightType.Q4_0));
        assertThrows(IllegalStateException.class, () -> q.lossAndBackward(new int[] {1, 2}, new int[] {2, 3}, 1, 2));
    }
}
