package dev.jgpt.tokenizer;

import dev.jgpt.common.AtomicFiles;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Trains a GPT-2-style byte-level BPE: text is split into words with GPT-2's regex, words are
 * counted, and the most frequent adjacent pair of tokens is merged until the vocabulary is full.
 * The result is a standard tokenizer.json (byte-level pre-tokenizer and decoder, BPE model) that
 * round-trips any UTF-8 text, since all 256 bytes are tokens.
 *
 * <p>Ids: 0..255 are the single bytes (id = byte value), then the merged tokens in merge order,
 * and {@code <|endoftext|>} last, as in GPT-2. Ties between equally frequent pairs go to the
 * pair with the smaller ids, so training is deterministic.
 *
 * <p>Cost: words are counted once; each merge only revisits the words that contain the pair
 * (pair counts are updated incrementally, a heap finds the next best pair).
 */
public final class BpeTrainer {
    public static final String END_OF_TEXT = "<|endoftext|>";

    private final Map<String, long[]> wordCounts = new HashMap<>();
    private long characters;

    /**
     * The trained tokenizer: tokens in id order and merges in rank order, with statistics of the
     * training text: its words (pre-tokens), UTF-8 bytes, and tokens after the last merge.
     */
    public record Result(List<String> vocab, List<String> merges, long words, int distinctWords, long bytes,
                         long tokens) {
        public int vocabSize() {
            return vocab.size();
        }

        public int endOfText() {
            return vocab.size() - 1;
        }

        /** Writes the tokenizer.json (atomically). */
        public void save(Path tokenizerJson) throws IOException {
            AtomicFiles.write(tokenizerJson, Json.MAPPER.writeValueAsBytes(toJson()));
        }

        /** The tokenizer.json tree, laid out like GPT-2's. */
        public ObjectNode toJson() {
            ObjectNode root = Json.MAPPER.createObjectNode();
            root.put("version", "1.0");
            root.putNull("truncation");
            root.putNull("padding");
            ObjectNode eot = root.putArray("added_tokens").addObject();
            eot.put("id", endOfText());
            eot.put("content", END_OF_TEXT);
            eot.put("single_word", false);
            eot.put("lstrip", false);
            eot.put("rstrip", false);
            eot.put("normalized", true);
            eot.put("special", true);
            root.putNull("normalizer");
            byteLevel(root.putObject("pre_tokenizer"), true);
            byteLevel(root.putObject("post_processor"), false);
            byteLevel(root.putObject("decoder"), true);
            ObjectNode model = Json.bpeModel(root);
            ObjectNode vocabNode = model.putObject("vocab");
            for (int id = 0; id < vocab.size(); id++) {
                vocabNode.put(vocab.get(id), id);
            }
            ArrayNode mergesNode = model.putArray("merges");
            merges.forEach(mergesNode::add);
            return root;
        }

        private static void byteLevel(ObjectNode node, boolean trimOffsets) {
            node.put("type", "ByteLevel");
            node.put("add_prefix_space", false);
            node.put("trim_offsets", trimOffsets);
            node.put("use_regex", true);
        }
    }

    /** Trains on {@code text}; see {@link #train(int)}. */
    public static Result train(String text, int vocabSize) {
        return new BpeTrainer().addText(text).train(vocabSize);
    }

    /** Trains on a UTF-8 file, read block by block (the file need not fit in memory as text). */
    public static Result train(Path file, int vocabSize) throws IOException {
        BpeTrainer trainer = new BpeTrainer();
        StringBuilder pending = new StringBuilder();
        try (Utf8File in = new Utf8File(file, 1 << 22)) {
            while (in.readBlock(pending)) {
                int cut = ByteLevel.lastSafeCut(pending);
                if (cut > 0) {
                    trainer.addText(pending.substring(0, cut));
                    pending.delete(0, cut);
                }
            }
        }
        trainer.addText(pending.toString());
        if (trainer.characters == 0) {
            throw new IllegalArgumentException("cannot train a tokenizer on " + file + ": the file is empty");
        }
        return trainer.train(vocabSize);
    }

    /** Counts the words of {@code text} (GPT-2 pre-tokenization; {@code <|endoftext|>} is skipped). */
    public BpeTrainer addText(CharSequence text) {
        String s = text.toString();
        characters += s.length();
        int from = 0;
        while (true) {
            int at = s.indexOf(END_OF_TEXT, from);
            countWords(s, from, at < 0 ? s.length() : at);
            if (at < 0) {
                return this;
            }
            from = at + END_OF_TEXT.length();
        }
    }

    private void countWords(String s, int start, int end) {
        Matcher m = ByteLevel.PRE_TOKENIZER.matcher(s).region(start, end);
        while (m.find()) {
            wordCounts.computeIfAbsent(m.group(), k -> new long[1])[0]++;
        }
    }

    /**
     * Merges pairs until there are {@code vocabSize} tokens (counting {@code <|endoftext|>}), or
     * until no word has two tokens left (then the vocabulary is smaller).
     */
    public Result train(int vocabSize) {
        if (vocabSize < 257) {
            throw new IllegalArgumentException("vocab size " + vocabSize
                    + " is too small: a byte-level BPE needs at least 257 tokens (256 bytes + " + END_OF_TEXT + ")");
        }
        if (wordCounts.isEmpty()) {
            throw new IllegalArgumentException("cannot train a tokenizer on an empty text");
        }
        // Tokens: 0..255 are single bytes.
        List<byte[]> tokenBytes = new ArrayList<>();
        List<String> vocab = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            tokenBytes.add(new byte[] {(byte) b});
            String token = String.valueOf(ByteLevel.byteToChar(b));
            vocab.add(token);
            ids.put(token, b);
        }

        // Words as token sequences, with their counts.
        int n = wordCounts.size();
        int[][] words = new int[n][];
        long[] counts = new long[n];
        long totalWords = 0;
        int w = 0;
        for (Map.Entry<String, long[]> e : wordCounts.entrySet()) {
            byte[] bytes = e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int[] symbols = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                symbols[i] = bytes[i] & 0xFF;
            }
            words[w] = symbols;
            counts[w] = e.getValue()[0];
            totalWords += counts[w];
            w++;
        }

        PairStats stats = new PairStats();
        for (w = 0; w < n; w++) {
            stats.addWord(words[w], counts[w], w, -1);
        }
        PriorityQueue<Candidate> heap = new PriorityQueue<>();
        stats.counts.forEach((pair, count) -> heap.add(new Candidate(count[0], pair)));

        List<String> merges = new ArrayList<>();
        Set<Long> merged = new HashSet<>();
        int[] seen = new int[n];
        int step = 0;
        while (vocab.size() < vocabSize - 1 && !heap.isEmpty()) {
            Candidate top = heap.poll();
            long current = stats.count(top.pair);
            if (current != top.count) {
                // Stale entry. A lower count is re-queued; a higher one has a fresher entry already.
                if (current > 0 && current < top.count) {
                    heap.add(new Candidate(current, top.pair));
                }
                continue;
            }
            int a = (int) (top.pair >>> 32), b = (int) top.pair;
            byte[] joined = concat(tokenBytes.get(a), tokenBytes.get(b));
            String token = ByteLevel.toTokenString(joined);
            Integer id = ids.get(token);
            if (id == null) {       // two merge paths can spell the same token; keep one id
                id = vocab.size();
                vocab.add(token);
                tokenBytes.add(joined);
                ids.put(token, id);
            }
            if (merged.add(top.pair)) {
                merges.add(vocab.get(a) + " " + vocab.get(b));
            }
            step++;
            Set<Long> grown = new HashSet<>();
            for (int word : stats.takeWords(top.pair)) {
                if (seen[word] == step) {
                    continue;
                }
                seen[word] = step;
                int[] symbols = words[word];
                int[] after = merge(symbols, a, b, id);
                if (after == symbols) {
                    continue;       // a stale entry in the pair's word list
                }
                stats.removeWord(symbols, counts[word]);
                stats.addWord(after, counts[word], word, id);
                words[word] = after;
                for (int i = 0; i + 1 < after.length; i++) {
                    if (after[i] == id || after[i + 1] == id) {
                        grown.add(PairStats.key(after[i], after[i + 1]));
                    }
                }
            }
            // Only pairs with the new token can have grown; they get fresh heap entries.
            for (long pair : grown) {
                long count = stats.count(pair);
                if (count > 0) {
                    heap.add(new Candidate(count, pair));
                }
            }
        }
        vocab.add(END_OF_TEXT);
        long bytes = 0, tokens = 0;
        for (w = 0; w < n; w++) {
            tokens += counts[w] * words[w].length;
        }
        for (Map.Entry<String, long[]> e : wordCounts.entrySet()) {
            bytes += e.getValue()[0] * e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        return new Result(List.copyOf(vocab), List.copyOf(merges), totalWords, n, bytes, tokens);
    }

    /** The symbols with every (a, b) replaced by {@code id}, left to right; the same array if none. */
    private static int[] merge(int[] symbols, int a, int b, int id) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < symbols.length; i++) {
            if (i + 1 < symbols.length && symbols[i] == a && symbols[i + 1] == b) {
                if (out == null) {
                    out = Arrays.copyOf(symbols, symbols.length - 1);
                    n = i;
                }
                out[n++] = id;
                i++;
            } else if (out != null) {
                out[n++] = symbols[i];
            }
        }
        return out == null ? symbols : Arrays.copyOf(out, n);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A heap entry: the most frequent pair first, ties to the smaller ids. */
    private record Candidate(long count, long pair) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            return count != o.count ? Long.compare(o.count, count) : Long.compare(pair, o.pair);
        }
    }

    /** Pair counts weighted by word frequency, and for each pair the words that may contain it. */
    private static final class PairStats {
        final Map<Long, long[]> counts = new HashMap<>();
        final Map<Long, IntList> words = new HashMap<>();

        static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xFFFFFFFFL);
        }

        long count(long pair) {
            long[] c = counts.get(pair);
            return c == null ? 0 : c[0];
        }

        /**
         * Adds the pairs of a word. Its index is recorded for every pair, or with {@code newId}
         * &ge; 0 only for pairs containing that token: after a merge every other pair of the
         * word was already there, and so was the word in its list.
         */
        void addWord(int[] symbols, long count, int word, int newId) {
            for (int i = 0; i + 1 < symbols.length; i++) {
                long pair = key(symbols[i], symbols[i + 1]);
                long[] c = counts.computeIfAbsent(pair, k -> new long[1]);
                c[0] += count;
                if (newId < 0 || symbols[i] == newId || symbols[i + 1] == newId) {
                    words.computeIfAbsent(pair, k -> new IntList()).addDistinctLast(word);
                }
            }
        }

        void removeWord(int[] symbols, long count) {
            for (int i = 0; i + 1 < symbols.length; i++) {
                long pair = key(symbols[i], symbols[i + 1]);
                long[] c = counts.get(pair);
                c[0] -= count;
                if (c[0] == 0) {
                    counts.remove(pair);
                }
            }
        }

        int[] takeWords(long pair) {
            IntList list = words.remove(pair);
            return list == null ? new int[0] : list.toArray();
        }
    }

    private static final class IntList {
        int[] items = new int[4];
        int size;

        /** Appends unless {@code v} is already the last item (a word adds each pair run once). */
        void addDistinctLast(int v) {
            if (size > 0 && items[size - 1] == v) {
                return;
            }
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            items[size++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(items, size);
        }
    }
}
