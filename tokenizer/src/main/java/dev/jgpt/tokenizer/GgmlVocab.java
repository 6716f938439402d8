package dev.jgpt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer as llama.cpp keeps it in a GGUF file's {@code tokenizer.ggml.*} keys
 * (model {@code gpt2}): the token strings by id, their types, the merges in rank order, the name of
 * the pre-tokenizer ({@code tokenizer.ggml.pre}) and the special ids. It converts to and from a
 * Hugging Face tokenizer.json, so jgpt runs a GGUF file's tokenizer with the same library as any other,
 * and an exported model carries its own.
 *
 * @param types  llama.cpp's token types: 1 normal, 3 control, 4 user-defined (others count as normal)
 * @param bos    the beginning-of-sequence id, or -1
 * @param eos    the end-of-sequence id, or -1
 * @param addBos whether a text starts with bos
 */
public record GgmlVocab(String[] tokens, int[] types, String[] merges, String pre, int bos, int eos, boolean addBos) {
    public static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4;

    /**
     * The pre-tokenizer regexes of the {@code tokenizer.ggml.pre} names jgpt knows (llama-vocab.cpp's
     * and the Hugging Face tokenizer.json of the same models): GPT-2's, Llama 3's, Qwen2's.
     */
    static final Map<String, String> PRE = Map.of(
            "llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    private static final String GPT2_PRE = "gpt-2";

    public GgmlVocab {
        if (tokens.length == 0 || types.length != tokens.length) {
            throw new IllegalArgumentException("tokenizer: " + tokens.length + " tokens and " + types.length + " token types");
        }
        if (!pre.equals(GPT2_PRE) && !PRE.containsKey(pre)) {
            throw new IllegalArgumentException("tokenizer.ggml.pre '" + pre + "' is not a pre-tokenizer jgpt knows ("
                    + GPT2_PRE + ", " + String.join(", ", PRE.keySet().stream().sorted().toList()) + ")");
        }
        for (int id : new int[] {bos, eos}) {
            if (id < -1 || id >= tokens.length) {
                throw new IllegalArgumentException("tokenizer: special token id " + id + " is outside the " + tokens.length + " tokens");
            }
        }
    }

    /** The Hugging Face tokenizer.json of this vocabulary (bytes, UTF-8). */
    public byte[] toTokenizerJson() {
        JsonNodeFactory n = JsonNodeFactory.instance;
        ObjectNode root = n.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = n.objectNode();
        for (int id = 0; id < tokens.length; id++) {
            vocab.put(tokens[id], id);
            if (types[id] == CONTROL || types[id] == USER_DEFINED) {
                added.addObject().put("id", id).put("content", tokens[id]).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", false)
                        .put("special", types[id] == CONTROL);
            }
        }
        root.putNull("normalizer");
        ObjectNode byteLevel = n.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        if (pre.equals(GPT2_PRE)) {
            root.set("pre_tokenizer", byteLevel.deepCopy());
        } else {
            ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode ps = seq.putArray("pretokenizers");
            ObjectNode split = ps.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", PRE.get(pre));
            split.put("behavior", "Isolated").put("invert", false);
            ps.add(byteLevel.deepCopy().put("use_regex", false));
        }
        if (addBos && bos >= 0) {
            ObjectNode tp = root.putObject("post_processor").put("type", "TemplateProcessing");
            ArrayNode single = tp.putArray("single"), pair = tp.putArray("pair");
            single.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode special = tp.putObject("special_tokens").putObject(tokens[bos]);
            special.put("id", tokens[bos]);
            special.putArray("ids").add(bos);
            special.putArray("tokens").add(tokens[bos]);
        } else {
            root.putNull("post_processor");
        }
        root.set("decoder", byteLevel);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token").putNull("continuing_subword_prefix").putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", pre.equals("llama-bpe"));
        model.set("vocab", vocab);
        ArrayNode ms = model.putArray("merges");
        for (String m : merges) {
            ms.add(m);
        }
        try {
            return new ObjectMapper().writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The vocabulary of a tokenizer.json llama.cpp can run with its {@code gpt2} tokenizer model: a
     * byte-level BPE with GPT-2's pre-tokenizer (GPT-2's own, or one jgpt trained), or a char tokenizer
     * (each character becomes the byte-level string of its UTF-8 byte; characters of several bytes are
     * refused). {@code <|endoftext|>} is bos and eos, as llama.cpp's converter sets them for GPT-2.
     *
     * @throws IllegalArgumentException naming what llama.cpp could not run
     */
    public static GgmlVocab fromTokenizerJson(JsonNode root, String origin) {
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText()) || !model.path("vocab").isObject()) {
            throw new IllegalArgumentException(origin + ": only BPE tokenizers go into GGUF files (llama.cpp's gpt2 "
                    + "tokenizer model), this one is " + model.path("type").asText("unknown"));
        }
        boolean chars = CharTokenizer.fromJson(root) != null;
        if (!chars && !("ByteLevel".equals(root.path("pre_tokenizer").path("type").asText())
                && root.path("pre_tokenizer").path("use_regex").asBoolean(true)
                && "ByteLevel".equals(root.path("decoder").path("type").asText()))) {
            throw new IllegalArgumentException(origin + ": only byte-level BPE tokenizers with GPT-2's pre-tokenizer "
                    + "(or char tokenizers) can be exported to GGUF");
        }
        int size = 0;
        for (var it = model.path("vocab").fields(); it.hasNext(); ) {
            size = Math.max(size, it.next().getValue().asInt() + 1);
        }
        for (JsonNode a : root.path("added_tokens")) {
            size = Math.max(size, a.path("id").asInt() + 1);
        }
        String[] tokens = new String[size];
        int[] types = new int[size];
        Arrays.fill(types, NORMAL);
        for (var it = model.path("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            tokens[e.getValue().asInt()] = chars ? byteLevelChar(e.getKey(), origin) : e.getKey();
        }
        int eot = -1;
        for (JsonNode a : root.path("added_tokens")) {
            int id = a.path("id").asInt();
            tokens[id] = a.path("content").asText();
            types[id] = a.path("special").asBoolean() ? CONTROL : USER_DEFINED;
            if (tokens[id].equals("<|endoftext|>")) {
                eot = id;
            }
        }
        for (int id = 0; id < size; id++) {
            if (tokens[id] == null) {
                throw new IllegalArgumentException(origin + ": token id " + id + " has no token (GGUF needs every id)");
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        return new GgmlVocab(tokens, types, merges.toArray(String[]::new), GPT2_PRE, eot, eot, false);
    }

    /** A char tokenizer's token as llama.cpp's byte-level BPE sees it: the byte-level string of its one byte. */
    private static String byteLevelChar(String token, String origin) {
        byte[] utf8 = token.getBytes(StandardCharsets.UTF_8);
        if (utf8.length != 1) {
            throw new IllegalArgumentException(origin + ": character " + Chars.quote(token) + " takes " + utf8.length
                    + " bytes in UTF-8; only char vocabularies of single-byte characters can be exported to GGUF");
        }
        return ByteLevel.toTokenString(utf8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgmlVocab v && Arrays.equals(tokens, v.tokens) && Arrays.equals(types, v.types)
                && Arrays.equals(merges, v.merges) && pre.equals(v.pre) && bos == v.bos && eos == v.eos && addBos == v.addBos;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + Arrays.hashCode(merges);
    }

    @Override
    public String toString() {
        return "GgmlVocab[" + tokens.length + " tokens, " + merges.length + " merges, pre " + pre + "]";
    }
}
