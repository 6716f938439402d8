package dev.jgpt.tokenizer;

import dev.jgpt.common.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One token per character (Unicode code point), as in nanoGPT's shakespeare-char: the vocabulary
 * is the sorted distinct characters of the corpus (tiny Shakespeare: 65, {@code "\n"} = 0,
 * {@code " "} = 1, ...).
 *
 * <p>Saved as a standard tokenizer.json that any Hugging Face loader reads as the same
 * tokenizer: a BPE model with no merges over single characters, no pre-tokenizer, and a
 * {@code Fuse} decoder (concatenate tokens). {@link Tokenizers#load} recognises that shape and
 * returns this pure-Java class.
 */
public final class CharTokenizer implements Tokenizer {
    private final int[] codePoints;          // id -> code point
    private final int[] bmpIds;              // code point < 65536 -> id, or -1
    private final Map<Integer, Integer> supplementaryIds;

    private CharTokenizer(int[] codePoints) {
        this.codePoints = codePoints;
        this.bmpIds = new int[65536];
        Arrays.fill(bmpIds, -1);
        this.supplementaryIds = new HashMap<>();
        for (int id = 0; id < codePoints.length; id++) {
            int cp = codePoints[id];
            if (cp < 0 || cp > Character.MAX_CODE_POINT || Character.isSurrogate((char) cp) && cp < 65536) {
                throw new IllegalArgumentException("char tokenizer: " + String.format("U+%04X", cp)
                        + " is not a valid character");
            }
            Integer previous = cp < 65536 ? (bmpIds[cp] >= 0 ? bmpIds[cp] : null) : supplementaryIds.get(cp);
            if (previous != null) {
                throw new IllegalArgumentException("char tokenizer: character " + Chars.describe(cp)
                        + " has two ids, " + previous + " and " + id);
            }
            if (cp < 65536) {
                bmpIds[cp] = id;
            } else {
                supplementaryIds.put(cp, id);
            }
        }
    }

    /** The tokenizer whose vocabulary is the sorted distinct characters of {@code text}. */
    public static CharTokenizer fromText(CharSequence text) {
        return ofCharacters(text.codePoints().distinct().toArray());
    }

    /** The tokenizer over these characters (code points), sorted: id i = i-th smallest. */
    public static CharTokenizer ofCharacters(int[] codePoints) {
        int[] sorted = codePoints.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("char tokenizer: character " + Chars.describe(sorted[i])
                        + " is listed twice");
            }
        }
        if (sorted.length == 0) {
            throw new IllegalArgumentException("char tokenizer: the vocabulary is empty (no characters)");
        }
        return new CharTokenizer(sorted);
    }

    /** The character (code point) of token {@code id}. */
    public int character(int id) {
        checkId(id, 0);
        return codePoints[id];
    }

    /** The id of character {@code codePoint}, or -1 if it is not in the vocabulary. */
    public int id(int codePoint) {
        if (codePoint >= 0 && codePoint < 65536) {
            return bmpIds[codePoint];
        }
        return supplementaryIds.getOrDefault(codePoint, -1);
    }

    @Override
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int id;
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                id = supplementaryIds.getOrDefault(cp, -1);
                if (id < 0) {
                    throw new UnknownCharacterException(cp, n, codePoints.length);
                }
            } else {
                id = bmpIds[c];
                if (id < 0) {
                    throw new UnknownCharacterException(c, n, codePoints.length);
                }
            }
            out[n++] = id;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i], i);
            sb.appendCodePoint(codePoints[ids[i]]);
        }
        return sb.toString();
    }

    private void checkId(int id, int position) {
        if (id < 0 || id >= codePoints.length) {
            throw new IllegalArgumentException("token id " + id + " at position " + position
                    + " is out of range: the char tokenizer has " + codePoints.length + " tokens (0.."
                    + (codePoints.length - 1) + ")");
        }
    }

    @Override
    public int vocabSize() {
        return codePoints.length;
    }

    @Override
    public OptionalInt endOfText() {
        return OptionalInt.empty();
    }

    @Override
    public String kind() {
        return "char";
    }

    @Override
    public void save(Path tokenizerJson) throws IOException {
        AtomicFiles.write(tokenizerJson, Json.MAPPER.writeValueAsBytes(toJson()));
    }

    /** The tokenizer.json tree (see the class comment for its shape). */
    ObjectNode toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = Json.bpeModel(root);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < codePoints.length; id++) {
            vocab.put(Character.toString(codePoints[id]), id);
        }
        model.putArray("merges");
        return root;
    }

    /**
     * The char tokenizer saved in {@code root}, or {@code null} if the tokenizer.json has another
     * shape: a BPE model without merges whose tokens are single characters with ids 0..n-1, no
     * added tokens, normalizer or pre-tokenizer, and a Fuse decoder.
     */
    static CharTokenizer fromJson(JsonNode root) {
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText()) || !model.path("merges").isArray()
                || !model.path("merges").isEmpty() || !model.path("vocab").isObject()
                || !"Fuse".equals(root.path("decoder").path("type").asText())
                || !root.path("normalizer").isNull() || !root.path("pre_tokenizer").isNull()
                || root.path("added_tokens").size() != 0) {
            return null;
        }
        JsonNode vocab = model.path("vocab");
        int[] codePoints = new int[vocab.size()];
        Arrays.fill(codePoints, -1);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String token = e.getKey();
            int id = e.getValue().asInt(-1);
            if (token.codePointCount(0, token.length()) != 1 || !e.getValue().canConvertToInt()
                    || id < 0 || id >= codePoints.length || codePoints[id] != -1) {
                return null;
            }
            codePoints[id] = token.codePointAt(0);
        }
        return codePoints.length == 0 ? null : new CharTokenizer(codePoints);
    }

    @Override
    public String toString() {
        return "char tokenizer (" + codePoints.length + " characters)";
    }
}
