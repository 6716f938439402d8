package dev.jgpt.infer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face model's {@code generation_config.json}: the ids that end a generation and the
 * sampling settings its authors recommend, which jgpt uses as defaults (command-line flags and
 * explicit options override them).
 *
 * <p>{@code eos_token_id} is an id or a list of ids (Llama 3.x Instruct lists
 * {@code <|end_of_text|>}, {@code <|eom_id|>} and {@code <|eot_id|>}). {@code do_sample: false}
 * means greedy decoding, as in {@code transformers}. {@code repetition_penalty} is applied over the
 * whole context, as {@code transformers} does.
 *
 * @param file              the file read, or null if the model has none
 * @param eosTokenIds       {@code eos_token_id}, as a list (empty if absent)
 * @param bosTokenId        {@code bos_token_id}
 * @param doSample          {@code do_sample}
 * @param temperature       {@code temperature}
 * @param topP              {@code top_p}
 * @param topK              {@code top_k}
 * @param repetitionPenalty {@code repetition_penalty}
 */
public record GenerationConfig(Path file, List<Integer> eosTokenIds, OptionalInt bosTokenId, Optional<Boolean> doSample,
                               Optional<Float> temperature, Optional<Float> topP, OptionalInt topK,
                               Optional<Float> repetitionPenalty) {

    /** The file of a Hugging Face model directory that holds the generation defaults. */
    public static final String FILE_NAME = "generation_config.json";

    /** No file: no eos ids, no sampling defaults. */
    public static final GenerationConfig NONE = new GenerationConfig(null, List.of(), OptionalInt.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty());

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /**
     * Reads {@code modelDir}'s {@code generation_config.json}; {@link #NONE} if there is none.
     *
     * @throws IllegalArgumentException naming the file and the key, if the file is not valid JSON or
     *                                  a key jgpt uses has a wrong type or value
     */
    public static GenerationConfig load(Path modelDir) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return NONE;
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": not a JSON object");
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.path("eos_token_id");
        for (JsonNode id : eosNode.isArray() ? eosNode : List.of(eosNode)) {
            if (id.isMissingNode() || id.isNull()) {
                continue;
            }
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
                throw new IllegalArgumentException(file + ": eos_token_id must be a token id or a list of them, got " + eosNode);
            }
            eos.add(id.asInt());
        }
        JsonNode doSample = root.path("do_sample");
        if (!doSample.isMissingNode() && !doSample.isNull() && !doSample.isBoolean()) {
            throw new IllegalArgumentException(file + ": do_sample must be true or false, got " + doSample);
        }
        Optional<Float> temperature = number(file, root, "temperature", 0, Double.MAX_VALUE, true, "a number >= 0");
        Optional<Float> topP = number(file, root, "top_p", 0, 1, false, "in (0, 1]");
        Optional<Float> penalty = number(file, root, "repetition_penalty", 0, Double.MAX_VALUE, false, "a number > 0");
        Optional<Float> topK = number(file, root, "top_k", 0, Integer.MAX_VALUE, true, "an integer >= 0");
        if (topK.isPresent() && topK.get() != Math.rint(topK.get())) {
            throw new IllegalArgumentException(file + ": top_k must be an integer >= 0, got " + root.get("top_k"));
        }
        OptionalInt bos = root.path("bos_token_id").canConvertToInt() && root.path("bos_token_id").isIntegralNumber()
                ? OptionalInt.of(root.get("bos_token_id").asInt()) : OptionalInt.empty();
        return new GenerationConfig(file, eos, bos,
                doSample.isBoolean() ? Optional.of(doSample.asBoolean()) : Optional.empty(),
                temperature, topP, topK.map(k -> OptionalInt.of(Math.round(k))).orElse(OptionalInt.empty()), penalty);
    }

    /** A number key in [min, max] (the lower end open unless {@code minIncluded}), if present. */
    private static Optional<Float> number(Path file, JsonNode root, String key, double min, double max,
                                          boolean minIncluded, String expected) {
        JsonNode n = root.path(key);
        if (n.isMissingNode() || n.isNull()) {
            return Optional.empty();
        }
        double v = n.asDouble();
        if (!n.isNumber() || !Double.isFinite(v) || v < min || (!minIncluded && v == min) || v > max) {
            throw new IllegalArgumentException(file + ": " + key + " must be " + expected + ", got " + n);
        }
        return Optional.of((float) v);
    }

    /**
     * Sets on {@code options} what this file says: the eos ids as {@link GenerationOptions#stopTokens()
     * stop tokens} (added to those already there), greedy decoding for {@code do_sample: false}, else
     * the temperature, top-p and top-k it gives, and the repetition penalty over the whole context.
     * Apply it first and explicit settings after, so that they win.
     */
    public GenerationOptions.Builder applyTo(GenerationOptions.Builder options) {
        options.addStopTokens(eosTokenIds);
        if (doSample.isPresent() && !doSample.get()) {
            options.temperature(0f);
        } else {
            temperature.ifPresent(options::temperature);
        }
        topP.ifPresent(options::topP);
        topK.ifPresent(options::topK);
        repetitionPenalty.ifPresent(p -> options.repeatPenalty(p).repeatLastN(-1));
        return options;
    }
}
