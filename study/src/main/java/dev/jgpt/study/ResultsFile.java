package dev.jgpt.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.common.AtomicFiles;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * results.jsonl: one JSON line per finished run. A study appends each run as it finishes (one write, then fsync),
 * so a kill loses only the runs in flight; at worst the last line is cut off mid-write. Reading drops such an
 * unterminated last line (a run that will train again) and rejects any other line that is not a record.
 */
public final class ResultsFile implements Closeable {
    public static final String FILE_NAME = "results.jsonl";
    /**
     * The same file gzip-compressed: how a large grid's results are committed (a 700-run grid's per-step curves and
     * per-layer diagnostics are ~10 MB of text, a third of that compressed); {@link #read} and --replot take either.
     */
    public static final String COMPRESSED_NAME = FILE_NAME + ".gz";

    /**
     * The records of a results file, in file order, and the unterminated last line that was not a complete record
     * (null when the file ends cleanly).
     */
    public record Contents(List<RunResult> records, String droppedTail) {
    }

    /**
     * What a study finds in its output directory: the earlier records it reuses, one per planned run whose full
     * configuration (the run's spec and the corpus, by its unigram entropy and loss) equals a record's, and how
     * many records it leaves alone (other runs, other corpus, duplicates: kept in the file, out of the report).
     */
    public record Resume(Map<RunSpec, RunResult> reused, int ignored, String droppedTail) {
        /** "resuming: 212 of 704 runs already in DIR/results.jsonl", with what was left alone or dropped. */
        public String describe(Path file, int planned) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "resuming: %d of %d runs already in %s",
                    reused.size(), planned, file));
            if (ignored > 0) {
                sb.append(String.format(Locale.ROOT, "; %d other record%s there (not in this plan, or another corpus) stay in "
                        + "the file and out of the report", ignored, ignored == 1 ? "" : "s"));
            }
            if (droppedTail != null) {
                sb.append(String.format(Locale.ROOT, "; dropped its incomplete last line (%d characters, a run cut off "
                        + "mid-write), which runs again", droppedTail.length()));
            }
            return sb.toString();
        }
    }

    private final FileChannel channel;
    private final ObjectMapper json = StabilityStudy.mapper();

    private ResultsFile(FileChannel channel) {
        this.channel = channel;
    }

    /**
     * The results file in dir that --replot reads: results.jsonl, or else results.jsonl.gz; null when neither exists.
     */
    public static Path find(Path dir) {
        for (String name : List.of(FILE_NAME, COMPRESSED_NAME)) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return null;
    }

    /**
     * Reads a results file, gzip-compressed when its name ends in .gz (see the class comment for what is dropped and
     * what is an error).
     */
    public static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readAllBytes();
            } catch (ZipException | EOFException e) {
                throw new IllegalArgumentException("results file " + file + ": not a complete gzip file (" + e.getMessage()
                        + ")", e);
            }
        }
        String text = new String(bytes, StandardCharsets.UTF_8); // lenient: a tail may be cut mid-character
        ObjectMapper json = StabilityStudy.mapper();
        List<RunResult> records = new ArrayList<>();
        String droppedTail = null;
        int start = 0, lineNo = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            boolean terminated = end >= 0;
            String line = text.substring(start, terminated ? end : text.length());
            lineNo++;
            start = terminated ? end + 1 : text.length();
            if (line.isBlank()) {
                continue;
            }
            try {
                records.add(json.readValue(line, RunResult.class));
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                if (terminated) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "results file %s, line %d: not a run record (%s); remove or repair that line", file, lineNo,
                            e.getOriginalMessage()), e);
                }
                droppedTail = line;
            }
        }
        return new Contents(records, droppedTail);
    }

    /**
     * The records of {@code file} (if it exists) that these planned runs can reuse. An incomplete last line is cut
     * from the file (rewritten atomically) so that new records append after the complete ones.
     */
    public static Resume resume(Path file, List<RunSpec> planned, StudyCorpus corpus) throws IOException {
        if (!Files.exists(file)) {
            return new Resume(Map.of(), 0, null);
        }
        Contents contents = read(file);
        if (contents.droppedTail() != null) {
            byte[] bytes = Files.readAllBytes(file);
            int keep = bytes.length;
            while (keep > 0 && bytes[keep - 1] != '\n') {
                keep--;
            }
            AtomicFiles.write(file, Arrays.copyOf(bytes, keep));
        }
        Map<RunSpec, RunSpec> plan = new LinkedHashMap<>();
        planned.forEach(s -> plan.put(s, s));
        Map<RunSpec, RunResult> reused = new LinkedHashMap<>();
        for (RunResult r : contents.records()) {
            // same spec and same corpus: the run would train to this record again (runs are seeded and deterministic)
            if (plan.containsKey(r.spec()) && r.unigramEntropy() == corpus.unigramEntropy
                    && r.unigramLoss() == corpus.unigramLoss) {
                reused.put(r.spec(), r); // a later duplicate replaces an earlier one
            }
        }
        return new Resume(reused, contents.records().size() - reused.size(), contents.droppedTail());
    }

    /** Opens (creating if needed) a results file to append records to. */
    public static ResultsFile append(Path file) throws IOException {
        boolean created = !Files.exists(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        if (created) {
            ch.force(true);
            AtomicFiles.syncDirectory(file.toAbsolutePath().getParent());
        }
        return new ResultsFile(ch);
    }

    /** Appends one record as one line and syncs it to disk before returning. */
    public synchronized void add(RunResult r) throws IOException {
        byte[] line = json.writeValueAsBytes(r);
        ByteBuffer buf = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
