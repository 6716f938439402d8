package dev.jgpt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a tokenizer from its tokenizer.json. */
public final class Tokenizers {
    /** The file name of a tokenizer inside a model or data directory. */
    public static final String FILE_NAME = "tokenizer.json";

    private Tokenizers() {
    }

    /**
     * Loads {@code dirOrFile}: a tokenizer.json, or a directory holding one. A char-level
     * tokenizer (as saved by {@link CharTokenizer}) comes back as a {@link CharTokenizer}; any
     * other Hugging Face tokenizer as an {@link HfTokenizer}.
     *
     * @throws IllegalArgumentException if the file is missing or not a valid tokenizer.json
     */
    public static Tokenizer load(Path dirOrFile) throws IOException {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE_NAME) : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(Files.isDirectory(dirOrFile)
                    ? "no " + FILE_NAME + " in directory " + dirOrFile
                    : "tokenizer file not found: " + dirOrFile);
        }
        JsonNode root = Json.readTokenizerJson(file);
        CharTokenizer chars = CharTokenizer.fromJson(root);
        return chars != null ? chars : HfTokenizer.load(file, root);
    }

    /**
     * A tokenizer from the bytes of a tokenizer.json made elsewhere (e.g. from a GGUF file's
     * {@code tokenizer.ggml.*} metadata); {@code origin} names it in messages.
     *
     * @throws IllegalArgumentException if the JSON is not a valid tokenizer
     */
    public static Tokenizer fromJson(byte[] json, String origin) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("corrupt tokenizer " + origin + ": " + e.getOriginalMessage());
        }
        CharTokenizer chars = CharTokenizer.fromJson(root);
        return chars != null ? chars : HfTokenizer.fromJson(json, root, origin);
    }
}
