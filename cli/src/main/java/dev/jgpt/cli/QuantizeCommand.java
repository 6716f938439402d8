package dev.jgpt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.infer.GenerationConfig;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.GPT;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.model.io.gguf.GgufValue;
import dev.jgpt.tokenizer.GgmlVocab;
import dev.jgpt.tokenizer.TokenizerConfig;
import dev.jgpt.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a model directory with its weights quantized: model.gguf (ggml's blocks, bit for bit as "
                + "llama-quantize makes them without an importance matrix; llama.cpp runs it too), config.json with a "
                + "\"quantization\" object naming the type and every tensor kept in another (f32 norms, biases and "
                + "position tables; the LM head of 4-bit types in q6_k), and the tokenizer.json (with tokenizer_config.json, "
                + "chat_template.jinja and generation_config.json where the model has them).",
                "jgpt generate, eval and serve run the new directory with the weights kept quantized."})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (f32, f16 or bf16 safetensors).")
    Path model;

    @Option(names = "--to", required = true, paramLabel = "TYPE", description = "q8_0, q4_0, q4_k, q6_k, bf16 or f16.")
    String to;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "The new directory (must not exist).")
    Path out;

    @Override
    public Integer call() throws Exception {
        WeightType type = ModelFiles.weightType("--to", to);
        if (type == WeightType.F32) {
            throw new IllegalArgumentException("--to f32 is no quantization; choose q8_0, q4_0, q4_k, q6_k, bf16 or f16");
        }
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + ": already exists; choose another --out");
        }
        Path tokenizer = model.resolve(Tokenizers.FILE_NAME);
        if (!Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException(tokenizer + ": missing");
        }
        GPT gpt = ModelDir.load(model);
        Map<String, GgufValue> vocab;
        try {
            vocab = ModelFiles.vocabMetadata(GgmlVocab.fromTokenizerJson(new ObjectMapper().readTree(tokenizer.toFile()),
                    tokenizer.toString()));
        } catch (IllegalArgumentException notForLlamaCpp) {
            vocab = Map.of();   // the directory's tokenizer.json still serves jgpt; llama.cpp would need one in the file
        }
        // the directory appears whole or not at all
        Path tmp = AtomicFiles.tempSibling(out);
        try {
            ModelDir.saveQuantized(gpt, type, vocab, tmp);
            Files.copy(tokenizer, tmp.resolve(Tokenizers.FILE_NAME));
            // what chat and the generation defaults read, so the quantized model chats as the source does
            for (String name : new String[] {TokenizerConfig.FILE_NAME, TokenizerConfig.TEMPLATE_FILE_NAME, GenerationConfig.FILE_NAME}) {
                if (Files.isRegularFile(model.resolve(name))) {
                    Files.copy(model.resolve(name), tmp.resolve(name));
                }
            }
            Files.move(tmp, out);
        } finally {
            AtomicFiles.deleteTreeQuietly(tmp);
        }
        System.out.printf(Locale.ROOT, "jgpt quantize: wrote %s (%s, model.gguf %.1f MB)%n", out, type.ggmlName(),
                Files.size(out.resolve(ModelDir.QUANTIZED_WEIGHTS)) / 1e6);
        return 0;
    }
}
