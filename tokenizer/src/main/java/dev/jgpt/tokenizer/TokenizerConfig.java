package dev.jgpt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a Hugging Face model directory says about its tokenizer besides {@code tokenizer.json}: the
 * chat template and the special tokens, from {@code tokenizer_config.json} and, where present,
 * {@code chat_template.jinja} (where newer {@code transformers} versions save the template; it takes
 * precedence, as there).
 *
 * <p>{@code chat_template} is a string, or a list of {@code {"name", "template"}} objects of which
 * the one named {@code default} is used. Special tokens ({@code bos_token}, {@code eos_token},
 * {@code unk_token}, {@code pad_token}) are strings or {@code {"content": ...}} objects.
 *
 * @param source         the file the chat template comes from (for errors), or the config file, or
 *                       the directory when it has neither
 * @param chatTemplates  the templates by name ({@code default} for the plain string form), in file order
 * @param specialTokens  {@code bos_token}, {@code eos_token}, ... → their text, as templates see them
 * @param addBosToken    {@code add_bos_token}, where the file sets it
 */
public record TokenizerConfig(Path source, Map<String, String> chatTemplates, Map<String, String> specialTokens,
                              Optional<Boolean> addBosToken) {

    /** The file beside tokenizer.json that holds the chat template and special tokens. */
    public static final String FILE_NAME = "tokenizer_config.json";
    /** The file newer {@code transformers} versions save the chat template in. */
    public static final String TEMPLATE_FILE_NAME = "chat_template.jinja";
    /** The name of the template used when {@code chat_template} lists several. */
    public static final String DEFAULT_TEMPLATE = "default";

    private static final String[] SPECIAL_TOKENS = {"bos_token", "eos_token", "unk_token", "pad_token"};

    public TokenizerConfig {
        chatTemplates = Collections.unmodifiableMap(new LinkedHashMap<>(chatTemplates));
        specialTokens = Collections.unmodifiableMap(new LinkedHashMap<>(specialTokens));
    }

    /**
     * Reads {@code modelDir}'s {@code tokenizer_config.json} and {@code chat_template.jinja}; a
     * directory with neither gives a config without template or special tokens.
     *
     * @throws IllegalArgumentException naming the file, if it is not valid JSON or a key has the wrong type
     */
    public static TokenizerConfig load(Path modelDir) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        Path jinja = modelDir.resolve(TEMPLATE_FILE_NAME);
        Map<String, String> templates = new LinkedHashMap<>();
        Map<String, String> special = new LinkedHashMap<>();
        Optional<Boolean> addBos = Optional.empty();
        Path source = modelDir;
        if (Files.isRegularFile(file)) {
            source = file;
            JsonNode root = readJson(file);
            JsonNode template = root.path("chat_template");
            if (template.isTextual()) {
                templates.put(DEFAULT_TEMPLATE, template.asText());
            } else if (template.isArray()) {
                for (JsonNode named : template) {
                    if (!named.path("name").isTextual() || !named.path("template").isTextual()) {
                        throw bad(file, "chat_template: each entry of the list needs a \"name\" and a \"template\" string");
                    }
                    templates.put(named.get("name").asText(), named.get("template").asText());
                }
            } else if (!template.isMissingNode() && !template.isNull()) {
                throw bad(file, "chat_template must be a string or a list of {name, template}, got " + template.getNodeType());
            }
            for (String key : SPECIAL_TOKENS) {
                JsonNode token = root.path(key);
                if (token.isObject()) {
                    token = token.path("content");
                }
                if (token.isTextual()) {
                    special.put(key, token.asText());
                } else if (!token.isMissingNode() && !token.isNull()) {
                    throw bad(file, key + " must be a string or an object with a \"content\" string, got " + token);
                }
            }
            JsonNode bos = root.path("add_bos_token");
            if (bos.isBoolean()) {
                addBos = Optional.of(bos.asBoolean());
            } else if (!bos.isMissingNode() && !bos.isNull()) {
                throw bad(file, "add_bos_token must be true or false, got " + bos);
            }
        }
        if (Files.isRegularFile(jinja)) {
            source = jinja;
            templates.put(DEFAULT_TEMPLATE, Files.readString(jinja, StandardCharsets.UTF_8));
        }
        return new TokenizerConfig(source, templates, special, addBos);
    }

    /**
     * The chat template: the only one, or the one named {@code default}; empty if the model has none.
     *
     * @throws IllegalArgumentException if there are several templates and none is named {@code default}
     */
    public Optional<String> chatTemplate() {
        if (chatTemplates.isEmpty()) {
            return Optional.empty();
        }
        if (chatTemplates.containsKey(DEFAULT_TEMPLATE)) {
            return Optional.of(chatTemplates.get(DEFAULT_TEMPLATE));
        }
        if (chatTemplates.size() == 1) {
            return Optional.of(chatTemplates.values().iterator().next());
        }
        throw bad(source, "chat_template lists " + chatTemplates.keySet() + " and none is named \"" + DEFAULT_TEMPLATE + "\"");
    }

    public Optional<String> bosToken() {
        return Optional.ofNullable(specialTokens.get("bos_token"));
    }

    public Optional<String> eosToken() {
        return Optional.ofNullable(specialTokens.get("eos_token"));
    }

    /**
     * The id of {@code text} if the tokenizer encodes it as exactly one token that decodes back to
     * it (a special token such as {@code <|im_end|>}), else empty.
     */
    public static OptionalInt singleTokenId(Tokenizer tokenizer, String text) {
        if (text.isEmpty()) {
            return OptionalInt.empty();
        }
        int[] ids;
        try {
            ids = tokenizer.encode(text);
        } catch (RuntimeException notInVocabulary) {   // a char tokenizer without these characters
            return OptionalInt.empty();
        }
        return ids.length == 1 && tokenizer.decode(ids).equals(text) ? OptionalInt.of(ids[0]) : OptionalInt.empty();
    }

    private static JsonNode readJson(Path file) throws IOException {
        JsonNode root = Json.read(file, file.toString());
        if (root == null || !root.isObject()) {
            throw bad(file, "not a JSON object");
        }
        return root;
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }
}
