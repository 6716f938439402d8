package dev.jgpt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jgpt.common.LongHeap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The encoder of GPT-2's byte-level BPE in pure Java: what the Hugging Face tokenizers library does for a
 * tokenizer.json of GPT-2's shape, step for step, so the ids are the same (checked against it on all of
 * tiny Shakespeare and on adversarial Unicode), at tens of MB/s instead of one.
 *
 * <ol>
 *   <li>Added tokens ({@code <|endoftext|>}) are cut out of the text first, leftmost-longest, those with
 *       {@code normalized: false} in a first pass and the others in a second, as the library does;</li>
 *   <li>each remaining segment is split into pieces by GPT-2's pattern,
 *       {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}, scanned by hand
 *       ({@link #pieceEnd}); which class (letter, number, space, other) a code point outside ASCII is in, the
 *       library's regex engine is asked, once per code point met ({@link CharClasses}), since its Unicode tables
 *       need not be the JDK's version (ASCII's classes are fixed: {@link #asciiClass});</li>
 *   <li>each piece's UTF-8 bytes start as one symbol per byte, and merges apply lowest rank first, leftmost
 *       first among equals, as {@code Word::merge_all} does with its heap (a stale heap entry is recognised
 *       by its merged token, as there).</li>
 * </ol>
 * Only for the shape it reproduces ({@link #of} returns null otherwise): a BPE model without dropout,
 * unknown token, byte fallback, subword prefix or suffix, or ignore_merges, holding all 256 byte tokens;
 * a lone ByteLevel pre-tokenizer with the regex on and no prefix space; no normalizer; added tokens
 * without lstrip, rstrip or single_word. Text holding a lone surrogate is left to the library. Thread-safe.
 */
final class ByteLevelBpe {
    private static final int CACHE_LIMIT = 1 << 18;

    private final int[] byteIds = new int[256];
    private final MergeTable merges;
    private final AddedTokens rawAdded, normalizedAdded;
    /** Pieces seen before: text repeats its words, so most pieces are found here. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** The library's class of each code point, filled as code points are met (a text uses few). */
    private final byte[] classes = new byte[Character.MAX_CODE_POINT + 1];
    private final CharClasses library;

    private ByteLevelBpe(int[] byteIds, MergeTable merges, AddedTokens rawAdded, AddedTokens normalizedAdded,
                         CharClasses library) {
        this.library = library;
        for (int c = 0; c < 0x80; c++) {
            classes[c] = asciiClass(c);
        }
        System.arraycopy(byteIds, 0, this.byteIds, 0, 256);
        this.merges = merges;
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
    }

    /** The encoder of a parsed tokenizer.json, or null if it is not of the shape this class reproduces. */
    static ByteLevelBpe of(JsonNode root, CharClasses library) {
        JsonNode model = root.path("model");
        JsonNode pre = root.path("pre_tokenizer");
        boolean shape = "BPE".equals(model.path("type").asText())
                && isNullOr(model.path("dropout"), null) && isNullOr(model.path("unk_token"), null)
                && isNullOr(model.path("continuing_subword_prefix"), "") && isNullOr(model.path("end_of_word_suffix"), "")
                && !model.path("byte_fallback").asBoolean(false) && !model.path("ignore_merges").asBoolean(false)
                && model.path("vocab").isObject() && model.path("merges").isArray()
                && (root.path("normalizer").isNull() || root.path("normalizer").isMissingNode())
                && "ByteLevel".equals(pre.path("type").asText())
                && pre.path("use_regex").asBoolean(true) && !pre.path("add_prefix_space").asBoolean(false);
        if (!shape) {
            return null;
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.byteToChar(b)));
            if (id == null) {
                return null;   // a byte without a token: the library's unknown-symbol rules would apply
            }
            byteIds[b] = id;
        }
        MergeTable merges = new MergeTable(model.path("merges").size());
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String left, right;
            if (m.isArray() && m.size() == 2) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    return null;
                }
                left = parts[0];
                right = parts[1];
            }
            Integer a = vocab.get(left), b = vocab.get(right), ab = vocab.get(left + right);
            if (a == null || b == null || ab == null) {
                return null;
            }
            merges.put(a, b, rank++, ab);
        }
        List<String> raw = new ArrayList<>(), normalized = new ArrayList<>();
        List<Integer> rawIds = new ArrayList<>(), normalizedIds = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("single_word").asBoolean(false) || t.path("lstrip").asBoolean(false)
                    || t.path("rstrip").asBoolean(false) || t.path("content").asText().isEmpty()) {
                return null;
            }
            boolean norm = t.path("normalized").asBoolean(!t.path("special").asBoolean(false));
            (norm ? normalized : raw).add(t.path("content").asText());
            (norm ? normalizedIds : rawIds).add(t.path("id").asInt());
        }
        return new ByteLevelBpe(byteIds, merges, new AddedTokens(raw, rawIds), new AddedTokens(normalized, normalizedIds),
                library);
    }

    private static boolean isNullOr(JsonNode n, String value) {
        return n.isMissingNode() || n.isNull() || value != null && n.isTextual() && n.asText().equals(value);
    }

    /** The ids of {@code text}, or null if it holds a lone surrogate (left to the library). */
    int[] encode(String text) {
        try {
            return encodeWhole(text);
        } catch (LoneSurrogate e) {
            return null;
        }
    }

    private int[] encodeWhole(String text) {
        IdBuffer out = new IdBuffer(text.length() / 3 + 16);
        rawAdded.split(text, 0, text.length(), out, (from, to) ->
                normalizedAdded.split(text, from, to, out, (f, t) -> encodeSegment(text, f, t, out)));
        return out.toArray();
    }

    /** Pre-tokenizes text[from, to) (no added tokens in it) and encodes each piece. */
    private void encodeSegment(String text, int from, int to, IdBuffer out) {
        for (int i = from; i < to; ) {
            int end = pieceEnd(text, i, to);
            String piece = text.substring(i, end);
            int[] ids = cache.get(piece);
            if (ids == null) {
                ids = bpe(piece.getBytes(StandardCharsets.UTF_8));
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(piece, ids);
            }
            out.add(ids);
            i = end;
        }
    }

    /** The pattern's character classes; 0 in {@link #classes} means "not asked yet". */
    static final byte SPACE = 1, LETTER = 2, NUMBER = 3, OTHER = 4;

    /**
     * The class of an ASCII character, which no Unicode version changes: letters a-z and A-Z, digits 0-9, white space
     * tab, line feed, vertical tab, form feed, carriage return and space (Unicode's White_Space), the rest other.
     */
    static byte asciiClass(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ? LETTER
                : c >= '0' && c <= '9' ? NUMBER
                : c == ' ' || c >= '\t' && c <= '\r' ? SPACE
                : OTHER;
    }

    /** How the library's regex engine classes a code point: {@link #SPACE}, {@link #LETTER}, ... */
    interface CharClasses {
        byte classOf(int codePoint);
    }

    private byte classAt(String s, int i) {
        int cp = s.codePointAt(i);
        byte k = classes[cp];
        if (k == 0) {
            if (Character.getType(cp) == Character.SURROGATE) {
                throw new LoneSurrogate();
            }
            k = library.classOf(cp);   // a race only asks twice and stores the same answer
            classes[cp] = k;
        }
        return k;
    }

    private static final class LoneSurrogate extends RuntimeException {
        LoneSurrogate() {
            super(null, null, false, false);
        }
    }

    private static int next(String s, int i) {
        return i + (Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1);
    }

    private static final String[] CONTRACTIONS = {"s", "t", "re", "ve", "m", "ll", "d"};

    /**
     * Where the pattern's match starting at {@code i} ends, in text[i, to). Every character starts a match
     * (the alternatives cover every class), so the pieces are consecutive.
     */
    int pieceEnd(String s, int i, int to) {
        char c = s.charAt(i);
        if (c == '\'') {
            for (String suffix : CONTRACTIONS) {
                if (i + 1 + suffix.length() <= to && s.startsWith(suffix, i + 1)) {
                    return i + 1 + suffix.length();
                }
            }
        }
        int start = i;
        if (c == ' ' && i + 1 < to && classAt(s, i + 1) != SPACE) {
            start = i + 1;   // " ?" takes the space when a letter, number or other character follows
        }
        byte cls = classAt(s, start);
        if (cls != SPACE) {
            int j = next(s, start);
            while (j < to && classAt(s, j) == cls) {
                j = next(s, j);
            }
            return j;
        }
        // White space: \s+(?!\S) takes the run but its last character when a non-space follows, else \s+.
        int j = next(s, i), last = i;
        while (j < to && classAt(s, j) == SPACE) {
            last = j;
            j = next(s, j);
        }
        return j < to && last > i ? last : j;
    }

    /** GPT-2's BPE of one piece's bytes, as the library's Word::merge_all (see the class comment). */
    private int[] bpe(byte[] bytes) {
        int n = bytes.length;
        int[] id = new int[n], prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        for (int k = 0; k < n; k++) {
            id[k] = byteIds[bytes[k] & 0xFF];
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
        }
        MergeQueue queue = new MergeQueue(n);
        for (int k = 0; k + 1 < n; k++) {
            long m = merges.get(id[k], id[k + 1]);
            if (m >= 0) {
                queue.push(MergeTable.rank(m), k);
            }
        }
        int alive = n;
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int rank = (int) (top >>> 32), pos = (int) top;
            if (gone[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            long m = merges.get(id[pos], id[right]);
            int newId = merges.mergedIdOfRank(rank);
            if (m < 0 || MergeTable.mergedId(m) != newId) {
                continue;   // the pair at pos has changed since this entry was queued
            }
            id[pos] = newId;
            gone[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                long left = merges.get(id[prev[pos]], id[pos]);
                if (left >= 0) {
                    queue.push(MergeTable.rank(left), prev[pos]);
                }
            }
            if (next[pos] >= 0) {
                long after = merges.get(id[pos], id[next[pos]]);
                if (after >= 0) {
                    queue.push(MergeTable.rank(after), pos);
                }
            }
        }
        int[] out = new int[alive];
        for (int k = 0, o = 0; k < n; k++) {
            if (!gone[k]) {
                out[o++] = id[k];
            }
        }
        return out;
    }

    /** The added tokens of one kind (normalized or not), matched leftmost-longest as Aho-Corasick does. */
    private static final class AddedTokens {
        private final String[] contents;
        private final int[] ids;

        AddedTokens(List<String> contents, List<Integer> ids) {
            this.contents = contents.toArray(String[]::new);
            this.ids = ids.stream().mapToInt(Integer::intValue).toArray();
        }

        interface Segment {
            void accept(int from, int to);
        }

        /** Emits the added tokens in text[from, to) as ids and passes the text between them to {@code rest}. */
        void split(String text, int from, int to, IdBuffer out, Segment rest) {
            if (contents.length == 0) {
                if (from < to) {
                    rest.accept(from, to);
                }
                return;
            }
            int at = from;
            while (at < to) {
                int bestStart = -1, best = -1;
                for (int k = 0; k < contents.length; k++) {
                    int s = indexOf(text, contents[k], at, to);
                    if (s >= 0 && (bestStart < 0 || s < bestStart
                            || s == bestStart && contents[k].length() > contents[best].length())) {
                        bestStart = s;
                        best = k;
                    }
                }
                if (bestStart < 0) {
                    break;
                }
                if (bestStart > at) {
                    rest.accept(at, bestStart);
                }
                out.add(ids[best]);
                at = bestStart + contents[best].length();
            }
            if (at < to) {
                rest.accept(at, to);
            }
        }

        private static int indexOf(String text, String token, int from, int to) {
            int s = text.indexOf(token, from);
            return s >= 0 && s + token.length() <= to ? s : -1;
        }
    }

    /** (left id, right id) → (rank, merged id), open addressing on one long key per pair. */
    static final class MergeTable {
        private final long[] keys;
        private final long[] values;
        private final int[] mergedByRank;
        private final int mask;

        MergeTable(int count) {
            int capacity = Integer.highestOneBit(Math.max(4, count * 2 + 1)) * 2;
            keys = new long[capacity];
            values = new long[capacity];
            Arrays.fill(keys, -1L);
            mask = capacity - 1;
            mergedByRank = new int[count];
        }

        private static long key(int a, int b) {
            return (long) a << 32 | (b & 0xFFFFFFFFL);
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        /** A pair listed twice keeps its last rank, as the library's map, collected in rank order, does. */
        void put(int a, int b, int rank, int merged) {
            long k = key(a, b);
            int s = slot(k);
            while (keys[s] != -1L && keys[s] != k) {
                s = (s + 1) & mask;
            }
            keys[s] = k;
            values[s] = (long) rank << 32 | merged;
            mergedByRank[rank] = merged;
        }

        /** The packed (rank, merged id) of a pair, or −1. */
        long get(int a, int b) {
            long k = key(a, b);
            for (int s = slot(k); keys[s] != -1L; s = (s + 1) & mask) {
                if (keys[s] == k) {
                    return values[s];
                }
            }
            return -1L;
        }

        int mergedIdOfRank(int rank) {
            return mergedByRank[rank];
        }

        static int rank(long packed) {
            return (int) (packed >>> 32);
        }

        static int mergedId(long packed) {
            return (int) packed;
        }
    }

    /** A min-heap of (rank, position) packed in longs: lowest rank first, then leftmost. */
    private static final class MergeQueue {
        private long[] heap;
        private int size;

        MergeQueue(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(int rank, int pos) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            heap[size] = (long) rank << 32 | pos;
            LongHeap.siftUp(heap, size++);
        }

        long pop() {
            long top = heap[0];
            heap[0] = heap[--size];
            LongHeap.siftDown(heap, size);
            return top;
        }
    }

    /** A growing int array. */
    private static final class IdBuffer {
        private int[] ids;
        private int size;

        IdBuffer(int capacity) {
            ids = new int[capacity];
        }

        void add(int id) {
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size * 2);
            }
            ids[size++] = id;
        }

        void add(int[] more) {
            if (size + more.length > ids.length) {
                ids = Arrays.copyOf(ids, Math.max(ids.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, ids, size, more.length);
            size += more.length;
        }

        int[] toArray() {
            return Arrays.copyOf(ids, size);
        }
    }
}
