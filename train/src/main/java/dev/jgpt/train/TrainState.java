package dev.jgpt.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything besides the weights and the optimizer moments that a resumed run needs: the completed
 * step, the run's config, what data it trained on, and the training time so far. There is no random
 * generator state: every draw is derived from (seed, step, index) (see {@link Batcher}).
 *
 * @param step     optimizer steps completed (the next step to run)
 * @param elapsedS wall-clock seconds spent in the run so far, over all sessions
 */
public record TrainState(int step, double elapsedS, TrainConfig config, DataInfo data) {
    static final String FORMAT = "jgpt-train-state/1";

    /** Identifies the data so a resume on different data is refused. */
    public record DataInfo(String source, String tokenizerKind, int vocabSize, long trainTokens, long valTokens) {
        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("source", source).put("tokenizer", tokenizerKind).put("vocab_size", vocabSize)
                    .put("train_tokens", trainTokens).put("val_tokens", valTokens);
            return o;
        }

        static DataInfo fromJson(JsonNode o) {
            return new DataInfo(o.path("source").asText(), o.path("tokenizer").asText(), o.path("vocab_size").asInt(),
                    o.path("train_tokens").asLong(), o.path("val_tokens").asLong());
        }
    }

    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format", FORMAT);
        o.put("step", step);
        o.put("elapsed_s", elapsedS);
        ObjectNode rng = o.putObject("rng");
        rng.put("seed", config.seed());
        rng.put("scheme", "batches, dropout masks and samples are derived from (seed, step, index): no generator state");
        ObjectNode opt = o.putObject("optimizer");
        opt.put("type", "AdamW");
        opt.put("file", Checkpoint.OPTIMIZER);
        opt.put("adam_step", step);
        o.set("data", data.toJson());
        o.set("config", config.toJson());
        return o;
    }

    /**
     * The train state of the run saved in {@code runDir} (its train_state/state.json), or empty when the directory
     * holds none (a model directory alone). Only reads: unlike {@link Checkpoint#load} it recovers nothing.
     */
    public static Optional<TrainState> readFrom(Path runDir) throws IOException {
        Path file = runDir.resolve(Checkpoint.STATE_DIR).resolve(Checkpoint.STATE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(fromJson(new ObjectMapper().readTree(Files.readString(file))));
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(file + ": unreadable train state: " + e.getMessage(), e);
        }
    }

    static TrainState fromJson(JsonNode o) {
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new IllegalArgumentException("not a jgpt train state (format is '" + o.path("format").asText()
                    + "', expected '" + FORMAT + "')");
        }
        return new TrainState(o.path("step").asInt(), o.path("elapsed_s").asDouble(),
                TrainConfig.fromJson(o.path("config")), DataInfo.fromJson(o.path("data")));
    }
}
