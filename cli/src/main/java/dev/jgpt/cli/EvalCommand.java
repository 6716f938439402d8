package dev.jgpt.cli;

import dev.jgpt.common.TokenSequence;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.Evaluation;
import dev.jgpt.model.GPT;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import dev.jgpt.tokenizer.Utf8File;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean next-token cross-entropy (nats) of a model over a token file (.bin, nanoGPT uint16) "
                + "or a text file (tokenized with the model's tokenizer.json), in consecutive context windows.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (config.json, model.safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--data", required = true, description = "A .bin token file or a UTF-8 text file.")
    Path data;

    @Option(names = "--json", description = "Print one JSON object {\"loss\":…, \"tokens\":…} instead of text.")
    boolean json;

    @Option(names = "--threads", description = "Kernel threads (default: all cores).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        if (!Files.isRegularFile(data)) {
            throw new NoSuchFileException(data + ": no such data file");
        }
        GPT gpt = ModelDir.load(model);
        Evaluation.Result result;
        if (data.getFileName().toString().endsWith(".bin")) {
            try (TokenFile tokens = TokenFile.open(data)) {
                result = Evaluation.meanLoss(gpt, tokens);
            }
        } else {
            try (Tokenizer tok = Tokenizers.load(model)) {
                result = Evaluation.meanLoss(gpt, TokenSequence.of(tok.encode(Utf8File.readString(data))));
            }
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("loss", result.loss());
            out.put("tokens", result.tokens());
            System.out.println(new ObjectMapper().writeValueAsString(out));
        } else {
            System.out.printf("loss %.4f nats (perplexity %.2f) over %d tokens%n",
                    result.loss(), result.perplexity(), result.tokens());
        }
        return 0;
    }
}
