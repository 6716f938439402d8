package dev.jgpt.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A side file of a model directory's f32 matrices that are stored transposed (GPT-2's Conv1D weights, Wᵀ [in, out]),
 * holding them row-major (W [out, in]), written once into a cache directory and mapped by later loads
 * ({@link ModelDir#loadMapped(Path, Path, Consumer)}). A decode product over Wᵀ sums scaled rows, loading and storing
 * its partial sums for every 64 bytes of weights; over W it is one dot product per row, the kernel the mapped LM head
 * already streams at (on Zen 4, GPT-2's Conv1D products from a mapped file: 31-33 GB/s as Wᵀ, 38-42 as W, 2 threads).
 * Mapping a file already in the page cache costs no fresh memory, which a copy into the heap does (on the VMs measured,
 * 1-2 ms per MB, most of a second for GPT-2 124M's 340 MB).
 *
 * <p>The file is a safetensors file (its reader checks every tensor's bounds against the file's size) named by a hash
 * of the sources' real paths, and its metadata holds a key: each source file's real path, size, modification time and
 * file key (inode), and each tensor's name, shape, type and offsets there. A file whose key, tensors or size do not
 * match is written again (a changed or replaced model is never read through a stale side file); bytes changed in place
 * with the same size are not detected. The file is written beside its final name and renamed only once complete and
 * synced; the temporary file is deleted on any failure and on an orderly exit (Ctrl-C) during the write. Writing one
 * also deletes the folder's side files of models no longer there (moved or deleted), which nothing else would.
 */
public final class RowMajorCache {
    /** The metadata key of the source description; its value starts with the format's version. */
    static final String KEY = "jgpt.rowmajor.source";
    private static final String VERSION = "jgpt row-major side file 1";
    /** The data start and so every matrix (each a multiple of 4 KB in GPT-2) on a page boundary. */
    private static final int ALIGN = 4096;
    /** Rows of W built in memory per write: a block of Wᵀ's columns read as whole cache lines. */
    private static final int BLOCK_ROWS = 64;
    /**
     * Bytes per write: whole 2 MB pieces at 2 MB offsets, so that a file system keeping large folios (ext4 since Linux
     * 6.16, XFS) caches the file in 2 MB pages, which Linux then maps whole (WeightMatrix's products read it faster).
     */
    private static final int WRITE_BYTES = 8 << 20;
    /** Free space to leave on the cache's file system besides the file. */
    private static final long SPARE_BYTES = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowMajorCache() {}

    /** A tensor stored transposed: S = Wᵀ [cols × rows] in place (a mapped source), and where it came from. */
    public record Source(String name, int rows, int cols, MemorySegment stored, Path file, long begin, long end) {
        public Source {
            if (stored.byteSize() != 4L * rows * cols) {
                throw new IllegalArgumentException(name + ": [" + cols + " × " + rows + "] f32 needs " + 4L * rows * cols
                        + " bytes, the segment has " + stored.byteSize());
            }
        }
    }

    /**
     * Every source's W [rows × cols], row-major f32 in a mapped side file in {@code cacheDir}, by name: the valid file
     * there, or one written now ({@code note} gets one line saying what, where and how big).
     *
     * @throws IOException if no valid file exists and none can be written (the caller uses the sources as stored)
     */
    public static Map<String, MemorySegment> rowMajor(Path cacheDir, List<Source> sources, Consumer<String> note)
            throws IOException {
        List<Path> files = sources.stream().map(Source::file).distinct().toList();
        String key = key(files, sources);
        Path file = cacheDir.resolve(name(files));
        Map<String, MemorySegment> found = read(file, key, sources);
        if (found != null) {
            return found;
        }
        long bytes = 0;
        for (Source s : sources) {
            bytes += s.stored.byteSize();
        }
        Files.createDirectories(cacheDir);
        deleteLeftovers(file);   // before the free-space check, so that what they free counts
        deleteOrphans(file, note);
        long free = Files.getFileStore(cacheDir).getUsableSpace();
        if (free < bytes + SPARE_BYTES) {
            throw new IOException(cacheDir + ": " + free / 1_000_000 + " MB free, a side file of " + bytes / 1_000_000
                    + " MB would leave less than " + SPARE_BYTES / 1_000_000_000 + " GB");
        }
        note.accept("writing the transposed matrices row-major once, " + bytes / 1_000_000 + " MB, to " + file);
        write(file, key, sources);
        found = read(file, key, sources);
        if (found == null) {
            throw new IOException(file + ": written but does not read back as the side file of " + files);
        }
        return found;
    }

    /** The file's W by name, or null if it is missing or not the side file of exactly these sources. */
    static Map<String, MemorySegment> read(Path file, String key, List<Source> sources) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (SafeTensors.Reader r = SafeTensors.Reader.open(file)) {
            if (!key.equals(r.metadata().get(KEY)) || r.entries().size() != sources.size()) {
                return null;
            }
            Map<String, MemorySegment> rows = new LinkedHashMap<>();
            for (Source s : sources) {
                SafeTensors.Entry e = r.entries().get(s.name);
                if (e == null || !e.dtype().equals("F32") || !Arrays.equals(e.shape(), new int[] {s.rows, s.cols})) {
                    return null;
                }
                rows.put(s.name, r.mapped(e));
            }
            return rows;
        } catch (IOException | RuntimeException unreadable) {
            return null;   // truncated, not a safetensors file, unmappable: written again
        }
    }

    /** What the side file was made from: a changed or replaced source changes it. */
    static String key(List<Path> files, List<Source> sources) throws IOException {
        StringBuilder k = new StringBuilder(VERSION);
        for (Path f : files) {
            k.append('\n').append(FileLine.of(f).line());
        }
        for (Source s : sources) {
            k.append('\n').append(s.name).append(" [").append(s.cols).append(", ").append(s.rows).append("] F32 at ")
                    .append(s.begin).append('-').append(s.end).append(" of ").append(files.indexOf(s.file));
        }
        return k.toString();
    }

    /**
     * The source paths recorded in a key of this version (its file lines, between the version line and the first tensor
     * line), or null if it is not such a key.
     */
    static List<Path> sourcePaths(String key) {
        List<String> lines = key == null ? List.of() : key.lines().toList();
        if (lines.isEmpty() || !lines.getFirst().equals(VERSION)) {
            return null;
        }
        List<Path> paths = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            FileLine f = FileLine.parse(line);
            if (f == null) {
                break;   // the first tensor line: its third field from the end is "begin-end", never a size
            }
            Path p = Path.of(f.path);
            if (!p.isAbsolute()) {
                return null;   // a real path always is: the line is not what it seems (a path holding a newline)
            }
            paths.add(p);
        }
        return paths;
    }

    /** A source file's line in the key: its real path (which may hold spaces), size, modification time, file key. */
    private record FileLine(String path, long size, String modified, String fileKey) {
        static FileLine of(Path f) throws IOException {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return new FileLine(f.toRealPath().toString(), a.size(), a.lastModifiedTime().toString(),
                    String.valueOf(a.fileKey()));
        }

        String line() {
            return path + " " + size + " " + modified + " " + fileKey;
        }

        /** The line's fields, or null if it is not a file line: the path is everything before the last three fields. */
        static FileLine parse(String line) {
            int k = line.lastIndexOf(' '), m = line.lastIndexOf(' ', k - 1), s = line.lastIndexOf(' ', m - 1);
            if (s <= 0) {
                return null;
            }
            try {
                return new FileLine(line.substring(0, s), Long.parseLong(line.substring(s + 1, m)),
                        line.substring(m + 1, k), line.substring(k + 1));
            } catch (NumberFormatException notASize) {
                return null;
            }
        }
    }

    /** One file per model (by the sources' real paths): a changed model replaces its side file instead of adding one. */
    static String name(List<Path> files) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                sha.update((f.toRealPath() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return "rowmajor-" + HexFormat.of().formatHex(sha.digest(), 0, 12) + ".safetensors";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Writes the side file: a temporary file beside it, synced, then renamed over it; never a partial file at its name. */
    static void write(Path file, String key, List<Source> sources) throws IOException {
        byte[] header = header(key, sources);
        Path tmp = AtomicFiles.tempSibling(file);
        // Ctrl-C runs the shutdown hooks but not this thread's finally: the hook deletes the partial file then.
        Thread cleanup = new Thread(() -> deleteQuietly(tmp), "jgpt-side-file-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
                 Arena arena = Arena.ofConfined()) {
                StagedWriter out = new StagedWriter(ch, arena.allocate(WRITE_BYTES, 4096));
                out.put(MemorySegment.ofArray(header));
                int maxCols = sources.stream().mapToInt(Source::cols).max().orElse(0);
                MemorySegment block = arena.allocate(4L * BLOCK_ROWS * maxCols, 64);
                for (Source s : sources) {
                    for (int r0 = 0; r0 < s.rows; r0 += BLOCK_ROWS) {
                        int n = Math.min(BLOCK_ROWS, s.rows - r0);
                        transposeBlock(s, r0, n, block);
                        out.put(block.asSlice(0, 4L * n * s.cols));
                    }
                }
                out.flush();
                ch.force(true);
            }
            AtomicFiles.move(tmp, file);
            AtomicFiles.syncDirectory(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new IOException(file + ": cannot write the side file: " + IoErrors.describe(e), e);
        } finally {
            deleteQuietly(tmp);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException exiting) {
                // the JVM is shutting down: the hook runs (or ran) and deletes the file itself
            }
        }
    }

    /** Rows r0 ≤ r &lt; r0 + n of W into block [n × cols]: W[r, c] = S[c, r], S's row c read a 256-byte piece at a time. */
    private static void transposeBlock(Source s, int r0, int n, MemorySegment block) {
        long stride = 4L * s.rows;
        for (int c = 0; c < s.cols; c++) {
            long from = c * stride + 4L * r0;
            for (int j = 0; j < n; j++) {
                block.set(F32, 4L * ((long) j * s.cols + c), s.stored.get(F32, from + 4L * j));
            }
        }
    }

    /** The safetensors header (its length first), padded with spaces so that the data starts on a page. */
    private static byte[] header(String key, List<Source> sources) throws IOException {
        ObjectNode h = JSON.createObjectNode();
        h.putObject("__metadata__").put(KEY, key);
        long at = 0;
        for (Source s : sources) {
            ObjectNode e = h.putObject(s.name);
            e.put("dtype", "F32");
            e.putArray("shape").add(s.rows).add(s.cols);
            e.putArray("data_offsets").add(at).add(at + 4L * s.rows * s.cols);
            at += 4L * s.rows * s.cols;
        }
        byte[] json = JSON.writeValueAsBytes(h);
        int padded = (int) ((8L + json.length + ALIGN - 1) / ALIGN * ALIGN - 8);
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).put(json);
        Arrays.fill(out, 8 + json.length, out.length, (byte) ' ');
        return out;
    }

    /** How old a temporary file beside the side file is before it counts as a killed writer's, not a running one's. */
    static final java.time.Duration LEFTOVER_AGE = java.time.Duration.ofHours(1);

    /** Deletes the temporary files of writers killed before they could (SIGKILL, a crash): they are never read. */
    static void deleteLeftovers(Path file) {
        String prefix = "." + file.getFileName() + ".";
        long before = System.currentTimeMillis() - LEFTOVER_AGE.toMillis();
        try (var dir = Files.newDirectoryStream(file.toAbsolutePath().getParent(), prefix + "*.tmp")) {
            for (Path p : dir) {
                if (Files.getLastModifiedTime(p).toMillis() < before) {
                    deleteQuietly(p);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort, as deleteQuietly
        }
    }

    /**
     * Deletes the other side files in the file's folder whose models are gone (every source path in the key missing):
     * nothing else ever would, and each is the size of the model's matrices. A file that does not read as this
     * version's side file is left alone (it may be another jgpt version's). {@code note} gets one line if any went.
     */
    static void deleteOrphans(Path file, Consumer<String> note) {
        List<String> removed = new ArrayList<>();
        long freed = 0;
        try (var dir = Files.newDirectoryStream(file.toAbsolutePath().getParent(), "rowmajor-*.safetensors")) {
            for (Path p : dir) {
                List<Path> gone = p.getFileName().equals(file.getFileName()) ? null : goneSources(p);
                if (gone != null) {
                    try {
                        long size = Files.size(p);
                        Files.delete(p);
                        freed += size;
                        removed.add(p + " (of " + gone.stream().map(Path::toString).collect(Collectors.joining(", "))
                                + ")");
                    } catch (IOException ignored) {
                        // best effort: left for the next write
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort: a side file left behind costs disk space, never a wrong weight
        }
        if (!removed.isEmpty()) {
            note.accept("removed " + removed.size() + (removed.size() == 1 ? " side file" : " side files")
                    + " of models no longer there (" + freed / 1_000_000 + " MB): " + String.join(", ", removed));
        }
    }

    /** The sources of a side file of this version whose every source is missing, else null (kept). */
    private static List<Path> goneSources(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;   // opening a named pipe for reading would wait for a writer
        }
        try (SafeTensors.Reader r = SafeTensors.Reader.open(p)) {   // reads the header only, maps nothing
            List<Path> sources = sourcePaths(r.metadata().get(KEY));
            return sources != null && !sources.isEmpty() && sources.stream().allMatch(Files::notExists) ? sources : null;
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /** Bytes written to a channel in whole buffers (the last one shorter): see WRITE_BYTES. */
    static final class StagedWriter {
        private final FileChannel ch;
        private final MemorySegment buffer;
        private long filled;

        StagedWriter(FileChannel ch, MemorySegment buffer) {
            this.ch = ch;
            this.buffer = buffer;
        }

        void put(MemorySegment bytes) throws IOException {
            for (long at = 0; at < bytes.byteSize(); ) {
                long n = Math.min(bytes.byteSize() - at, buffer.byteSize() - filled);
                MemorySegment.copy(bytes, at, buffer, filled, n);
                filled += n;
                at += n;
                if (filled == buffer.byteSize()) {
                    flush();
                }
            }
        }

        void flush() throws IOException {
            writeFully(ch, buffer.asSlice(0, filled).asByteBuffer());
            filled = 0;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover temporary file is never read (its name is not the side file's)
        }
    }
}
