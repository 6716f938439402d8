package dev.jgpt.cli;

import dev.jgpt.common.TokenSequence;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.Evaluation;
import dev.jgpt.model.GPT;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Utf8File;
import dev.jgpt.train.Checkpoint;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.TrainState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean next-token cross-entropy (nats) of a model over a token file (.bin, nanoGPT uint16) "
                + "or a text file (tokenized with the model's tokenizer.json), in consecutive context windows.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Model directory (config.json, model.safetensors, tokenizer.json), or a GGUF file.")
    Path model;

    @Option(names = "--data", description = "A .bin token file or a UTF-8 text file. Default, for a jgpt training "
            + "run: the validation split it recorded.")
    Path data;

    @Option(names = "--json", description = "Print one JSON object {\"loss\":…, \"tokens\":…} instead of text.")
    boolean json;

    @Mixin
    WeightsOption weights;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        Parallel.setThreads(threads.resolve());
        if (data != null && !Files.isRegularFile(data)) {
            throw new IllegalArgumentException(data + ": no such data file");
        }
        if (data == null && ModelFiles.isGguf(model)) {
            throw new IllegalArgumentException("--data is needed: a GGUF file records no validation split");
        }
        Evaluation.Result result;
        try (ModelFiles files = ModelFiles.load(model, weights.type())) {
            GPT gpt = files.gpt();
            if (data == null) {
                try (TrainData recorded = recordedData()) {
                    result = Evaluation.meanLoss(gpt, recorded.val);
                }
            } else if (data.getFileName().toString().endsWith(".bin")) {
                try (TokenFile tokens = TokenFile.open(data)) {
                    result = Evaluation.meanLoss(gpt, tokens);
                }
            } else {
                try (Tokenizer tok = files.tokenizer()) {
                    result = Evaluation.meanLoss(gpt, TokenSequence.of(tok.encode(Utf8File.readString(data))));
                }
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

    /** A training run's data, as its train state names it; its validation split must not have changed. */
    private TrainData recordedData() throws IOException {
        TrainState state = Checkpoint.readState(model).orElseThrow(() -> new IllegalArgumentException("--data is needed: "
                + model + " is not a jgpt training run (no " + Checkpoint.STATE_DIR + "/" + Checkpoint.STATE
                + "), so it records no validation split"));
        TrainData d = TrainData.load(state.config().data(), state.config().tokenizer());
        if (d.val.size() != state.data().valTokens()) {
            d.close();
            throw new IllegalArgumentException("the data of " + model + " (" + d.source + ") has changed since training: "
                    + "its validation split is " + d.val.size() + " tokens, the run recorded "
                    + state.data().valTokens() + "; give --data");
        }
        System.err.println("jgpt eval: the validation split of " + d.source + " (" + d.val.size()
                + " tokens), as recorded in " + model);
        return d;
    }
}
