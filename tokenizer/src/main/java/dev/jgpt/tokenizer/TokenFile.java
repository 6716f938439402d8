package dev.jgpt.tokenizer;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.TokenSequence;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A token file in nanoGPT's format: raw little-endian uint16 token ids, no header
 * ({@code np.memmap(path, dtype=np.uint16)} reads it). Opened memory-mapped, so a training loop
 * can read random windows of a large file without loading it.
 *
 * <p>Files over 2 GiB are mapped in several pieces. Reading is thread-safe.
 */
public final class TokenFile implements TokenSequence, AutoCloseable {
    /** Largest id a uint16 file can hold; a vocabulary must have at most MAX_ID + 1 tokens. */
    public static final int MAX_ID = 0xFFFF;

    private static final int DEFAULT_CHUNK_TOKENS = 1 << 29;   // 1 GiB per mapping

    private final Path path;
    private final long size;
    private final int chunkShift;
    private final long chunkMask;
    private ByteBuffer[] chunks;

    private TokenFile(Path path, int chunkTokens) throws IOException {
        if (Integer.bitCount(chunkTokens) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two: " + chunkTokens);
        }
        this.path = path;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkTokens);
        this.chunkMask = chunkTokens - 1;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long bytes = ch.size();
            if (bytes % 2 != 0) {
                throw new IllegalArgumentException("corrupt token file " + path + ": " + bytes
                        + " bytes is not a whole number of uint16 tokens");
            }
            this.size = bytes / 2;
            int n = (int) ((size + chunkTokens - 1) >>> chunkShift);
            chunks = new ByteBuffer[n];
            for (int i = 0; i < n; i++) {
                long start = (long) i << chunkShift;
                long len = Math.min(chunkTokens, size - start);
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, start * 2, len * 2);
                chunks[i] = map.order(ByteOrder.LITTLE_ENDIAN);
            }
        }
    }

    /** Opens {@code path} memory-mapped (nothing is read until used). */
    public static TokenFile open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("token file not found: " + path);
        }
        return new TokenFile(path, DEFAULT_CHUNK_TOKENS);
    }

    /** For tests: a small mapping size exercises reads across mappings. */
    static TokenFile open(Path path, int chunkTokens) throws IOException {
        return new TokenFile(path, chunkTokens);
    }

    /** Number of tokens. */
    public long size() {
        return size;
    }

    /** Token {@code i}. */
    public int get(long i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("token " + i + " is outside " + path + " (" + size + " tokens)");
        }
        return chunks()[(int) (i >>> chunkShift)].getShort((int) (i & chunkMask) << 1) & 0xFFFF;
    }

    /** Copies tokens {@code [start, start + len)} into {@code dst[off..]}: one window of a batch. */
    public void read(long start, int[] dst, int off, int len) {
        if (start < 0 || len < 0 || start + len > size) {
            throw new IndexOutOfBoundsException("window [" + start + ", " + (start + len) + ") is outside "
                    + path + " (" + size + " tokens)");
        }
        if (off < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("window of " + len + " tokens does not fit at " + off
                    + " in an array of " + dst.length);
        }
        ByteBuffer[] mapped = chunks();
        long i = start;
        int o = off;
        long end = start + len;
        while (i < end) {
            ByteBuffer chunk = mapped[(int) (i >>> chunkShift)];
            int pos = (int) (i & chunkMask);
            int n = (int) Math.min(end - i, (chunkMask + 1) - pos);
            for (int k = 0; k < n; k++) {
                dst[o + k] = chunk.getShort((pos + k) << 1) & 0xFFFF;
            }
            i += n;
            o += n;
        }
    }

    /** Tokens {@code [start, start + len)} as a new array. */
    public int[] read(long start, int len) {
        int[] out = new int[len];
        read(start, out, 0, len);
        return out;
    }

    public Path path() {
        return path;
    }

    private ByteBuffer[] chunks() {
        ByteBuffer[] c = chunks;
        if (c == null) {
            throw new IllegalStateException("token file " + path + " is closed");
        }
        return c;
    }

    /** Drops the mappings (the OS unmaps them once they are garbage-collected). */
    @Override
    public void close() {
        chunks = null;
    }

    /** Writes all of {@code ids} to {@code path} atomically. */
    public static void write(Path path, int[] ids) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = AtomicFiles.tempSibling(path);
        try {
            try (Writer w = new Writer(tmp)) {
                w.write(ids);
            }
            AtomicFiles.move(tmp, path);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Appends uint16 tokens to a file, checking each id fits. Writes to exactly the path given;
     * callers that need all-or-nothing output write to a temporary path and rename it.
     */
    public static final class Writer implements AutoCloseable {
        private final FileChannel channel;
        private final Path path;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long count;

        public Writer(Path path) throws IOException {
            this.path = path;
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }

        public void write(int[] ids) throws IOException {
            write(ids, 0, ids.length);
        }

        public void write(int[] ids, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                int id = ids[i];
                if (id < 0 || id > MAX_ID) {
                    throw new IllegalArgumentException("token id " + id + " does not fit in a uint16 token file ("
                            + path.getFileName() + ", token " + (count + i - off) + ")");
                }
                if (!buffer.hasRemaining()) {
                    flush();
                }
                buffer.putShort((short) id);
            }
            count += len;
        }

        /** Tokens written so far. */
        public long count() {
            return count;
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        @Override
        public void close() throws IOException {
            try {
                flush();
            } finally {
                channel.close();
            }
        }
    }
}
