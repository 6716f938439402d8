package dev.jgpt.model.io.gguf;

import dev.jgpt.kernel.RopeTable;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.FeedForwardKind;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Norm;
import dev.jgpt.model.Param;
import dev.jgpt.model.Position;
import dev.jgpt.model.Quantize;
import dev.jgpt.model.ResidualLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models in GGUF files, as llama.cpp's converter ({@code convert_hf_to_gguf.py}) writes them for its
 * {@code gpt2}, {@code llama} and {@code qwen2} architectures: the {@code ARCH.*} metadata keys become a
 * {@link GPTConfig}, the tensors ({@code token_embd}, {@code blk.N.attn_q}, ...) the parameters of the
 * config's {@link Family} (Hugging Face names, {@link #ggufName} maps them).
 *
 * <p>Reading keeps every matrix stored in a type other than f32 packed in that type, over the file's
 * mapping ({@link Param#pack}): a Q4_K file stays Q4_K in memory and is multiplied by the quant kernels.
 * f32 tensors, and the vectors (norms, biases), are copied into f32 arrays. The one reordering is
 * llama.cpp's: its converter permutes the rows of Llama's q and k projections (its RoPE rotates adjacent
 * pairs, Hugging Face's rotates halves), so those rows are put back on load (copied, still packed) and
 * permuted again on export; Qwen2 files use rotate-half as they are.
 */
public final class GgufModel {
    /** The architectures jgpt runs, by their general.architecture name. */
    public static final List<String> ARCHITECTURES = List.of("gpt2", "llama", "qwen2");

    /** Hugging Face name → GGUF name, per family; $1 is the block index. */
    private static final String[][] GPT2_NAMES = {
            {"transformer\\.wte\\.weight", "token_embd.weight"},
            {"transformer\\.wpe\\.weight", "position_embd.weight"},
            {"transformer\\.ln_f\\.(weight|bias)", "output_norm.$1"},
            {"lm_head\\.weight", "output.weight"},
            {"transformer\\.h\\.(\\d+)\\.ln_1\\.(weight|bias)", "blk.$1.attn_norm.$2"},
            {"transformer\\.h\\.(\\d+)\\.attn\\.c_attn\\.(weight|bias)", "blk.$1.attn_qkv.$2"},
            {"transformer\\.h\\.(\\d+)\\.attn\\.c_proj\\.(weight|bias)", "blk.$1.attn_output.$2"},
            {"transformer\\.h\\.(\\d+)\\.ln_2\\.(weight|bias)", "blk.$1.ffn_norm.$2"},
            {"transformer\\.h\\.(\\d+)\\.mlp\\.c_fc\\.(weight|bias)", "blk.$1.ffn_up.$2"},
            {"transformer\\.h\\.(\\d+)\\.mlp\\.c_proj\\.(weight|bias)", "blk.$1.ffn_down.$2"},
    };
    private static final String[][] LLAMA_NAMES = {
            {"model\\.embed_tokens\\.weight", "token_embd.weight"},
            {"model\\.norm\\.weight", "output_norm.weight"},
            {"lm_head\\.weight", "output.weight"},
            {"model\\.layers\\.(\\d+)\\.input_layernorm\\.weight", "blk.$1.attn_norm.weight"},
            {"model\\.layers\\.(\\d+)\\.self_attn\\.q_proj\\.(weight|bias)", "blk.$1.attn_q.$2"},
            {"model\\.layers\\.(\\d+)\\.self_attn\\.k_proj\\.(weight|bias)", "blk.$1.attn_k.$2"},
            {"model\\.layers\\.(\\d+)\\.self_attn\\.v_proj\\.(weight|bias)", "blk.$1.attn_v.$2"},
            {"model\\.layers\\.(\\d+)\\.self_attn\\.o_proj\\.(weight|bias)", "blk.$1.attn_output.$2"},
            {"model\\.layers\\.(\\d+)\\.post_attention_layernorm\\.weight", "blk.$1.ffn_norm.weight"},
            {"model\\.layers\\.(\\d+)\\.mlp\\.gate_proj\\.weight", "blk.$1.ffn_gate.weight"},
            {"model\\.layers\\.(\\d+)\\.mlp\\.up_proj\\.weight", "blk.$1.ffn_up.weight"},
            {"model\\.layers\\.(\\d+)\\.mlp\\.down_proj\\.weight", "blk.$1.ffn_down.weight"},
    };
    private static final Pattern LLAMA_Q = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.q_proj\\.(weight|bias)");
    private static final Pattern LLAMA_K = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.k_proj\\.(weight|bias)");

    private GgufModel() {}

    /** The GGUF tensor name of a Hugging Face parameter tensor name, or null if llama.cpp has none for it. */
    public static String ggufName(String hfName, Family family) {
        for (String[] rule : family == Family.GPT2 ? GPT2_NAMES : LLAMA_NAMES) {
            Matcher m = Pattern.compile(rule[0]).matcher(hfName);
            if (m.matches()) {
                return m.replaceFirst(rule[1]);
            }
        }
        return null;
    }

    /** The model's shape from the file's metadata (and the token embedding's rows for the vocabulary). */
    public static GPTConfig config(GgufFile f) throws IOException {
        String arch = string(f, "general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw GgufFile.bad(f.file(), "architecture '" + arch + "' is not one jgpt runs (" + String.join(", ", ARCHITECTURES) + ")");
        }
        int C = integer(f, arch + ".embedding_length"), L = integer(f, arch + ".block_count");
        int H = integer(f, arch + ".attention.head_count"), ctx = integer(f, arch + ".context_length");
        int ff = integer(f, arch + ".feed_forward_length");
        GgufTensor embd = f.tensor("token_embd.weight");
        if (embd.dims().length != 2 || embd.cols() != C || embd.rows() > Integer.MAX_VALUE) {
            throw GgufFile.bad(f.file(), "tensor token_embd.weight has dims " + Arrays.toString(embd.dims())
                    + ", not [" + C + ", vocabulary]");
        }
        int V = (int) embd.rows();
        boolean tied = !f.tensors().containsKey("output.weight");
        try {
            if (arch.equals("gpt2")) {
                float eps = (float) number(f, "gpt2.attention.layer_norm_epsilon", 1e-5);
                return new GPTConfig(V, ctx, L, H, C, true, 0f, eps, ResidualLayout.PRE_LN, InitScheme.GPT2)
                        .toBuilder().intermediateSize(ff).tiedEmbeddings(tied).build();
            }
            int kv = optionalInteger(f, arch + ".attention.head_count_kv", H);
            int headDim = optionalInteger(f, arch + ".attention.key_length", C / H);
            int rotary = optionalInteger(f, arch + ".rope.dimension_count", headDim);
            if (rotary != headDim) {
                throw GgufFile.bad(f.file(), arch + ".rope.dimension_count is " + rotary + " but heads have " + headDim
                        + " dimensions: partial rotary embeddings are not supported");
            }
            if (f.tensors().containsKey("rope_freqs.weight")) {
                throw GgufFile.bad(f.file(), "tensor rope_freqs.weight (per-frequency RoPE factors, Llama 3.1+ "
                        + "rope scaling) is not supported yet");
            }
            RopeTable.Scaling scaling = RopeTable.Scaling.NONE;
            GgufValue type = f.metadata().get(arch + ".rope.scaling.type");
            if (type != null && !type.asString().equals("none")) {
                if (!type.asString().equals("linear")) {
                    throw GgufFile.bad(f.file(), arch + ".rope.scaling.type '" + type.asString() + "' is not supported (none, linear)");
                }
                scaling = new RopeTable.Scaling.Linear(number(f, arch + ".rope.scaling.factor", Double.NaN));
            }
            return GPTConfig.llama(V, ctx, L, H, kv, C, ff).toBuilder()
                    .headDim(headDim)
                    .layerNormEps((float) number(f, arch + ".attention.layer_norm_rms_epsilon", 1e-5))
                    .ropeTheta(number(f, arch + ".rope.freq_base", 10000.0))
                    .ropeScaling(scaling)
                    .tiedEmbeddings(tied)
                    .qkvBias(arch.equals("qwen2"))
                    .family(arch.equals("qwen2") ? Family.QWEN2 : Family.LLAMA)
                    .build();
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f.file(), e.getMessage());
        }
    }

    /**
     * The model in the file: matrices stored in f16, bf16 or a quantized type stay packed over the
     * mapping (valid while the file is open); f32 ones and vectors are copied. Every tensor is checked
     * against the shape the metadata implies; missing or unexpected tensors are named.
     */
    public static GPT load(GgufFile f) throws IOException {
        GPTConfig cfg = config(f);
        Family family = cfg.family();
        GPT model = GPT.uninitialized(cfg, stored -> {
            GgufTensor t = f.tensors().get(ggufName(stored, family));
            return t != null && t.type() != GgmlType.F32;
        });
        Set<String> unused = new LinkedHashSet<>(f.tensors().keySet());
        for (Param p : model.parameters()) {
            int rowSize = p.rowSize();
            List<WeightMatrix> parts = new ArrayList<>();
            for (Param.Stored s : p.stored) {
                String name = ggufName(s.name(), family);
                GgufTensor t = name == null ? null : f.tensors().get(name);
                if (t == null) {
                    throw GgufFile.bad(f.file(), "has no tensor " + (name != null ? name : s.name())
                            + ", which a " + family + " model of " + cfg.nLayer() + " layers needs");
                }
                unused.remove(name);
                long[] want = p.shape.length == 1 ? new long[] {s.rows()} : new long[] {rowSize, s.rows()};
                if (!Arrays.equals(t.dims(), want)) {
                    throw GgufFile.bad(f.file(), "tensor " + name + " has dims " + Arrays.toString(t.dims())
                            + " but the metadata implies " + Arrays.toString(want));
                }
                int heads = ropeHeads(s.name(), family, cfg);
                if (p.isPacked()) {
                    WeightMatrix m = f.matrix(name);
                    parts.add(heads == 0 ? m : m.withRowOrder(hfRowOrder(m.rows(), heads)));
                } else {
                    float[] v = f.floats(name);
                    if (heads != 0) {
                        v = permuteRows(v, v.length / s.rows(), heads, true);
                    }
                    System.arraycopy(v, 0, p.data, s.rowStart() * rowSize, v.length);
                }
            }
            if (p.isPacked()) {
                p.pack(parts);
            }
        }
        if (!unused.isEmpty()) {
            throw GgufFile.bad(f.file(), "has tensors " + unused + " that a " + family + " model does not use");
        }
        return model;
    }

    /** The options of an export: the weight type of the matrices, and the file's other metadata (tokenizer). */
    public record ExportOptions(WeightType type, String name, Map<String, GgufValue> metadata) {}

    /** What went into an exported file: its architecture and each tensor's type. */
    public record Exported(String architecture, Map<String, GgmlType> types) {}

    /**
     * Writes an f32 model as llama.cpp's converter would: its architecture's metadata keys and tensor names,
     * each weight in the type {@link Quantize#typeOf} gives it for {@code type} (bit for bit as ggml
     * quantizes), Llama's q and k rows permuted as llama.cpp expects.
     */
    public static Exported write(GPT model, ExportOptions options, Path out) throws IOException {
        GPTConfig c = model.config;
        String arch = architecture(c);
        Family family = c.family();
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string(arch));
        w.put("general.name", GgufValue.string(options.name()));
        w.put("general.file_type", GgufValue.uint32(fileType(options.type())));
        if (options.type().blockSize > 1) {
            w.put("general.quantization_version", GgufValue.uint32(2));
        }
        w.put(arch + ".context_length", GgufValue.uint32(c.blockSize()));
        w.put(arch + ".embedding_length", GgufValue.uint32(c.nEmbd()));
        w.put(arch + ".feed_forward_length", GgufValue.uint32(c.intermediateSize()));
        w.put(arch + ".block_count", GgufValue.uint32(c.nLayer()));
        w.put(arch + ".attention.head_count", GgufValue.uint32(c.nHead()));
        if (family == Family.GPT2) {
            w.put(arch + ".attention.layer_norm_epsilon", GgufValue.float32(c.layerNormEps()));
        } else {
            w.put(arch + ".attention.head_count_kv", GgufValue.uint32(c.nKvHead()));
            w.put(arch + ".rope.freq_base", GgufValue.float32((float) c.ropeTheta()));
            w.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(c.layerNormEps()));
            w.put(arch + ".rope.dimension_count", GgufValue.uint32(c.headDim()));
            if (c.headDim() * c.nHead() != c.nEmbd()) {
                w.put(arch + ".attention.key_length", GgufValue.uint32(c.headDim()));
                w.put(arch + ".attention.value_length", GgufValue.uint32(c.headDim()));
            }
            if (c.ropeScaling() instanceof RopeTable.Scaling.Linear lin) {
                w.put(arch + ".rope.scaling.type", GgufValue.string("linear"));
                w.put(arch + ".rope.scaling.factor", GgufValue.float32((float) lin.factor()));
            }
        }
        options.metadata().forEach(w::put);
        Map<String, GgmlType> types = new java.util.LinkedHashMap<>();
        if (c.ropeScaling() instanceof RopeTable.Scaling.Llama3) {
            // llama.cpp keeps Llama 3's scaling as per-frequency divisors of the unscaled frequencies.
            double[] plain = RopeTable.inverseFrequencies(c.headDim(), c.ropeTheta(), RopeTable.Scaling.NONE);
            double[] scaled = RopeTable.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
            float[] factors = new float[plain.length];
            for (int i = 0; i < factors.length; i++) {
                factors[i] = (float) (plain[i] / scaled[i]);
            }
            w.tensor("rope_freqs.weight", factors, factors.length);
            types.put("rope_freqs.weight", GgmlType.F32);
        }
        for (Param p : model.parameters()) {
            if (p.isPacked()) {
                throw new IllegalArgumentException("export takes an f32 model; " + p.name + " is packed");
            }
            int rowSize = p.rowSize();
            for (Param.Stored s : p.stored) {
                String name = ggufName(s.name(), family);
                float[] v = Arrays.copyOfRange(p.data, s.rowStart() * rowSize, (s.rowStart() + s.rows()) * rowSize);
                int heads = ropeHeads(s.name(), family, c);
                if (heads != 0) {
                    v = permuteRows(v, v.length / s.rows(), heads, false);
                }
                WeightType t = Quantize.typeOf(model, p, options.type());
                if (t == WeightType.F32) {
                    w.tensor(name, v, p.shape.length == 1 ? new long[] {s.rows()} : new long[] {s.rows(), rowSize});
                } else {
                    w.tensor(name, WeightMatrix.quantize(t, v, s.rows(), rowSize));
                }
                types.put(name, GgmlType.of(t));
            }
        }
        w.write(out);
        return new Exported(arch, types);
    }

    /** llama.cpp's architecture for a model, or an exception saying why it has none. */
    static String architecture(GPTConfig c) {
        String why = null;
        if (c.layout() != ResidualLayout.PRE_LN) {
            why = "residual layout " + c.layout() + " (llama.cpp's architectures are pre-LN)";
        } else if (c.family() == Family.GPT2 && (c.norm() != Norm.LAYERNORM || c.position() != Position.LEARNED
                || c.mlp() != FeedForwardKind.GELU || !c.bias() || c.nKvHead() != c.nHead()
                || c.headDim() * c.nHead() != c.nEmbd())) {
            why = "a gpt2-family model with other than GPT-2's block (layernorm, learned positions, gelu, biases, "
                    + "multi-head attention)";
        } else if (c.family() != Family.GPT2 && (c.norm() != Norm.RMSNORM || c.position() != Position.ROPE
                || c.mlp() != FeedForwardKind.SWIGLU || c.bias())) {
            why = "a " + c.family() + "-family model with other than Llama's block (rmsnorm, rope, swiglu, no biases)";
        } else if (c.family() == Family.LLAMA && c.qkvBias()) {
            why = "a llama model with q/k/v biases (that is the qwen2 family)";
        } else if (c.family() == Family.QWEN2 && !c.qkvBias()) {
            why = "a qwen2 model without q/k/v biases (that is the llama family)";
        }
        if (why != null) {
            throw new IllegalArgumentException("llama.cpp has no architecture for " + why);
        }
        return c.family().id();
    }

    /** llama.cpp's llama_ftype for a file whose matrices are mostly {@code type}. */
    static int fileType(WeightType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 14;    // MOSTLY_Q4_K_S: q4_K with a q6_K head
            case Q6_K -> 18;
            case BF16 -> 32;
        };
    }

    /** Heads whose rows llama.cpp permutes for this tensor (Llama's q and k), or 0. */
    private static int ropeHeads(String hfName, Family family, GPTConfig c) {
        if (family != Family.LLAMA) {
            return 0;
        }
        return LLAMA_Q.matcher(hfName).matches() ? c.nHead() : LLAMA_K.matcher(hfName).matches() ? c.nKvHead() : 0;
    }

    /**
     * llama.cpp's q/k row order: within each head of d rows, Hugging Face's row j·d/2 + k (j = 0, 1: the
     * two halves that rotate-half pairs) is GGUF's row 2k + j (adjacent pairs). Returns, for each HF row,
     * its GGUF row.
     */
    static int[] hfRowOrder(int rows, int heads) {
        int d = rows / heads;
        int[] gguf = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < d / 2; k++) {
                    gguf[h * d + j * (d / 2) + k] = h * d + 2 * k + j;
                }
            }
        }
        return gguf;
    }

    /** The rows of v [rows × rowSize] from GGUF's q/k order to Hugging Face's (toHf) or back. */
    static float[] permuteRows(float[] v, int rowSize, int heads, boolean toHf) {
        int[] gguf = hfRowOrder(v.length / rowSize, heads);
        float[] out = new float[v.length];
        for (int hf = 0; hf < gguf.length; hf++) {
            System.arraycopy(v, (toHf ? gguf[hf] : hf) * rowSize, out, (toHf ? hf : gguf[hf]) * rowSize, rowSize);
        }
        return out;
    }

    private static String string(GgufFile f, String key) throws IOException {
        try {
            return f.require(key).asString();
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f.file(), "metadata key " + key + ": " + e.getMessage());
        }
    }

    private static int integer(GgufFile f, String key) throws IOException {
        try {
            int v = f.require(key).asInt();
            if (v <= 0) {
                throw new IllegalArgumentException("must be positive, got " + v);
            }
            return v;
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f.file(), "metadata key " + key + ": " + e.getMessage());
        }
    }

    private static int optionalInteger(GgufFile f, String key, int otherwise) throws IOException {
        return f.metadata().containsKey(key) ? integer(f, key) : otherwise;
    }

    private static double number(GgufFile f, String key, double otherwise) throws IOException {
        GgufValue v = f.metadata().get(key);
        if (v == null) {
            if (Double.isNaN(otherwise)) {
                throw GgufFile.bad(f.file(), "has no metadata key " + key);
            }
            return otherwise;
        }
        try {
            return v.asDouble();
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f.file(), "metadata key " + key + ": " + e.getMessage());
        }
    }
}
