package dev.jgpt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPT;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.model.io.gguf.GgmlType;
import dev.jgpt.model.io.gguf.GgufModel;
import dev.jgpt.model.io.gguf.GgufValue;
import dev.jgpt.tokenizer.GgmlVocab;
import dev.jgpt.tokenizer.TokenizerConfig;
import dev.jgpt.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes a model directory as a GGUF file that llama.cpp (and Ollama, LM Studio) runs: llama.cpp's "
                + "gpt2 architecture for a GPT-2-style model, llama or qwen2 for Llama's block, with the tensor names and "
                + "metadata keys of llama.cpp's own converter, the tokenizer in tokenizer.ggml.* keys and the chat "
                + "template of tokenizer_config.json (or chat_template.jinja) in tokenizer.chat_template.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory (config.json, model.safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--format", defaultValue = "gguf", description = "Output format; only gguf. Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--type", defaultValue = "f16", paramLabel = "TYPE",
            description = "Type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k (4-bit files keep the LM head "
                    + "in q6_k, as llama-quantize does; vectors stay f32). Default: ${DEFAULT-VALUE}.")
    String type;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The file to write (must not exist).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!format.equalsIgnoreCase("gguf")) {
            throw new IllegalArgumentException("--format must be gguf, got " + format);
        }
        WeightType weights;
        try {
            weights = WeightType.parse(type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--type: " + e.getMessage());
        }
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + ": already exists; remove it or choose another --out");
        }
        Path tokenizerFile = model.resolve(Tokenizers.FILE_NAME);
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new IllegalArgumentException(tokenizerFile + ": missing (a GGUF file carries its tokenizer)");
        }
        GPT gpt = ModelDir.load(model);
        JsonNode tokenizer = new ObjectMapper().readTree(tokenizerFile.toFile());
        GgmlVocab vocab = GgmlVocab.fromTokenizerJson(tokenizer, tokenizerFile.toString());
        if (vocab.tokens().length != gpt.config.vocabSize()) {
            throw new IllegalArgumentException(tokenizerFile + ": " + vocab.tokens().length + " tokens, the model has "
                    + gpt.config.vocabSize() + " (llama.cpp needs one token per row of the embedding)");
        }
        String name = model.toAbsolutePath().normalize().getFileName().toString();
        Map<String, GgufValue> metadata = new LinkedHashMap<>(ModelFiles.vocabMetadata(vocab));
        metadata.putAll(ModelFiles.chatTemplateMetadata(TokenizerConfig.load(model)));
        GgufModel.Exported done = GgufModel.write(gpt, new GgufModel.ExportOptions(weights, name, metadata), out);
        Map<GgmlType, Integer> counts = new TreeMap<>();
        done.types().values().forEach(t -> counts.merge(t, 1, Integer::sum));
        StringBuilder summary = new StringBuilder();
        counts.forEach((t, n) -> summary.append(summary.isEmpty() ? "" : ", ").append(n).append(" × ").append(t));
        System.out.printf(Locale.ROOT, "jgpt export: wrote %s (%s, %.1f MB): tensors %s%n", out,
                done.architecture(), Files.size(out) / 1e6, summary);
        return 0;
    }
}
