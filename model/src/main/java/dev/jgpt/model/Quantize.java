package dev.jgpt.model;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which storage type each weight gets when a model is quantized to a type, and the quantized model
 * itself (for inference: its matrices packed, {@link Param#isPacked}). The rule is llama-quantize's
 * without an importance matrix: vectors (norms, biases) and learned position tables stay f32; the
 * LM head of a 4-bit model (the token embedding when tied) is q6_K; a matrix whose rows do not split into the type's blocks
 * falls back to q8_0, else f16. Everything else is the type.
 */
public final class Quantize {
    private Quantize() {}

    /** The type of parameter p of model when the model is quantized to {@code type}. */
    public static WeightType typeOf(GPT model, Param p, WeightType type) {
        if (p.shape.length != 2 || p == model.embeddings.positions || type == WeightType.F32) {
            return WeightType.F32;
        }
        WeightType t = type;
        Param head = model.lmHead != null ? model.lmHead : model.embeddings.tokens;
        if (p == head && (type == WeightType.Q4_0 || type == WeightType.Q4_K)) {
            t = WeightType.Q6_K;
        }
        int cols = p.rowSize();
        if (cols % t.blockSize != 0) {
            t = t.blockSize > 1 && cols % WeightType.Q8_0.blockSize == 0 ? WeightType.Q8_0 : WeightType.F16;
        }
        return t;
    }

    /**
     * An inference copy of an f32 model with its matrices quantized to {@code type} (per {@link #typeOf})
     * and packed: the bytes equal ggml's reference quantizer's, as a GGUF file of that type holds them.
     */
    public static GPT packed(GPT source, WeightType type) {
        Map<String, Param> byStored = new HashMap<>();
        for (Param p : source.parameters()) {
            if (p.isPacked()) {
                throw new IllegalArgumentException("quantize takes an f32 model; " + p.name + " is packed");
            }
            for (Param.Stored s : p.stored) {
                byStored.put(s.name(), p);
            }
        }
        GPT q = GPT.uninitialized(source.config, stored -> typeOf(source, byStored.get(stored), type) != WeightType.F32);
        for (Param p : q.parameters()) {
            Param from = source.param(p.name);
            if (!p.isPacked()) {
                System.arraycopy(from.data, 0, p.data, 0, p.size());
                continue;
            }
            WeightType t = typeOf(source, from, type);
            int cols = p.rowSize();
            List<WeightMatrix> parts = new ArrayList<>();
            for (Param.Stored s : p.stored) {
                parts.add(WeightMatrix.quantize(t, from.data, s.rowStart() * cols, s.rows(), cols));
            }
            p.pack(parts);
        }
        return q;
    }
}
