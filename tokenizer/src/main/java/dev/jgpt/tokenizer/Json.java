package dev.jgpt.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The one Jackson mapper of this module, and tokenizer.json reading with clear errors. */
final class Json {
    /**
     * Reads without canonicalizing field names: Jackson's symbol table pays off for names that repeat, and a
     * tokenizer.json's vocabulary is tens of thousands of names met once (GPT-2's file parses in about two thirds
     * of the CPU time without it, most of a cold parse being interpreted code). The tree is the same.
     */
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build()).enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    /** Parses a tokenizer.json; a malformed file gives one line naming the file and the problem. */
    static JsonNode readTokenizerJson(Path file) throws IOException {
        JsonNode root = read(file, "corrupt tokenizer file " + file);
        if (root == null || !root.isObject() || !root.path("model").isObject()
                || !root.path("model").path("type").isTextual()) {
            throw new IllegalArgumentException("corrupt tokenizer file " + file
                    + ": not a Hugging Face tokenizer.json (no \"model\" object with a \"type\")");
        }
        return root;
    }

    /**
     * Parses a JSON file; malformed JSON gives one line: {@code what}, then where and what the problem is.
     *
     * @return the root, null for an empty file
     */
    static JsonNode read(Path file, String what) throws IOException {
        try {
            return MAPPER.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new IllegalArgumentException(what + ": not valid JSON" + where + " (" + e.getOriginalMessage() + ")");
        }
    }

    /** The "model" object of a plain BPE tokenizer.json (no dropout, unk or affixes); the caller adds vocab and merges. */
    static com.fasterxml.jackson.databind.node.ObjectNode bpeModel(com.fasterxml.jackson.databind.node.ObjectNode root) {
        var model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        return model;
    }
}
