package dev.jgpt.model.io;

import dev.jgpt.common.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.kernel.quant.MappedPages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw little-endian tensor bytes.
 * Reading checks every bound before touching data and names the tensor at fault. F32 is read
 * as is; F16 and BF16 are widened to float. Writing is always F32 and atomic.
 */
public final class SafeTensors {
    /** A tensor: its name, shape (row-major) and data. */
    public record Tensor(String name, int[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + n
                        + " elements, data has " + data.length);
            }
        }
    }

    /** Headers above this size are refused: real ones are kilobytes, and a bad length must not allocate gigabytes. */
    static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {}

    /** A file's tensors (in file order) and its string metadata ({@code __metadata__}). */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** Reads every tensor (metadata is skipped). Errors name the file and the tensor. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        return readWithMetadata(file).tensors();
    }

    /** Reads every tensor and the metadata. Errors name the file and the tensor. */
    public static Contents readWithMetadata(Path file) throws IOException {
        try (Reader r = Reader.open(file)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : r.entries().values()) {
                out.put(e.name(), new Tensor(e.name(), e.shape(), r.read(e)));
            }
            return new Contents(out, r.metadata());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** One tensor's header entry: dtype (F32, F16 or BF16), shape, and its bytes' place in the data section. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        int elementBytes() {
            return dtype.equals("F32") ? 4 : 2;
        }
    }

    /**
     * An open safetensors file whose header has been checked: every entry's dtype, shape and offsets
     * are valid before any data is read. Tensors are read one at a time into the caller's array (F16/BF16
     * widened on the way) through a small native buffer, a quarter megabyte per read call, so a model loads
     * without a second copy of its weights. Not through a mapping of the file: copying GPT-2's 500 MB out of
     * one took about three times the CPU time of these reads (~430 against ~145 ms, file in the page cache: the
     * mapping faults its pages in 4 KB at a time), a good part of the time to the first token. Reads of
     * different tensors may run on different threads at once.
     */
    public static final class Reader implements AutoCloseable {
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** Source rows transposed per pass: a cache line of each destination row is written at once. */
        private static final int TRANSPOSE_ROWS = 16;
        /** Bytes per read call: few calls, and a buffer that stays in the L2 cache from the read to the copy out. */
        private static final int CHUNK = 1 << 18;

        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;
        /** The whole file mapped read-only, once {@link #mapped} first asks for it. */
        private MemorySegment mapping;

        private Reader(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
                       Map<String, String> metadata) {
            this.file = file;
            this.channel = channel;
            this.dataStart = dataStart;
            this.entries = entries;
            this.metadata = metadata;
        }

        public static Reader open(Path file) throws IOException {
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(file + ": no such file");
            }
            try {
                long size = ch.size();
                if (size < 8) {
                    throw bad(file, "is " + size + " bytes, too short for a header length");
                }
                ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, lenBuf, 0);
                long headerLen = lenBuf.flip().getLong();
                if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                    throw bad(file, "declares a header of " + headerLen + " bytes but the file has " + size
                            + " bytes (truncated or not a safetensors file)");
                }
                ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
                readFully(ch, headerBuf, 8);
                JsonNode header;
                try {
                    header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
                } catch (JsonProcessingException e) {
                    throw bad(file, "has a header that is not valid JSON: " + e.getOriginalMessage());
                }
                if (header == null || !header.isObject()) {
                    throw bad(file, "has a header that is not a JSON object");
                }
                long dataStart = 8 + headerLen, dataLen = size - dataStart;
                Map<String, Entry> entries = new LinkedHashMap<>();
                Map<String, String> metadata = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().equals("__metadata__")) {
                        e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                        continue;
                    }
                    entries.put(e.getKey(), entry(file, e.getKey(), e.getValue(), dataLen));
                }
                return new Reader(file, ch, dataStart, entries, metadata);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        }

        public Path file() {
            return file;
        }

        /** The tensors' entries, in file order. */
        public Map<String, Entry> entries() {
            return entries;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        /**
         * The tensor's bytes in place, in a read-only mapping of the file (made on first use, in an automatic
         * arena: it stays valid, after {@link #close} too, for as long as a segment of it is reachable). The
         * entry's bounds were checked against the file's size when the header was read.
         */
        public synchronized MemorySegment mapped(Entry e) {
            if (mapping == null) {
                try {
                    mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), Arena.ofAuto());
                    MappedPages.adviseHugePages(mapping);
                } catch (IOException x) {
                    throw new UncheckedIOException(file + ": cannot map the file: " + x.getMessage(), x);
                }
            }
            if (dataStart + e.end() > mapping.byteSize()) {
                throw new UncheckedIOException(new IOException(file + ": tensor " + e.name() + " ends at byte "
                        + (dataStart + e.end()) + " but the file now has " + mapping.byteSize() + " (truncated while loading?)"));
            }
            return mapping.asSlice(dataStart + e.begin(), e.end() - e.begin());
        }

        /** The tensor's values as a new array; a failed read is an UncheckedIOException naming the file and tensor. */
        public float[] read(Entry e) {
            float[] data = new float[(int) e.elements()];
            readInto(e, data, 0);
            return data;
        }

        /**
         * Writes the tensor's values into dst[off..off + elements); a failed read is an UncheckedIOException
         * naming the file and the tensor (unchecked, so that tensors can load in parallel tasks).
         */
        public void readInto(Entry e, float[] dst, int off) {
            long n = e.elements();
            if (off < 0 || off + n > dst.length) {
                throw new IllegalArgumentException(file + ": tensor " + e.name() + " (" + n + " values) does not fit at "
                        + off + " in an array of " + dst.length);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(CHUNK);
                int perRead = CHUNK / e.elementBytes();
                for (long done = 0; done < n; done += perRead) {
                    int count = (int) Math.min(perRead, n - done);
                    readElements(e, done, count, buf);
                    widen(e, buf, 0, dst, off + (int) done, count);
                }
            }
        }

        /**
         * Writes the 2-D tensor [rows × cols] transposed into dst[off..off + elements) as [cols × rows]
         * (GPT-2's Conv1D weights), without a temporary copy of the whole tensor; failures as {@link #readInto}.
         */
        public void readTransposedInto(Entry e, float[] dst, int off) {
            if (e.shape().length != 2) {
                throw new IllegalArgumentException(file + ": tensor " + e.name() + " " + Arrays.toString(e.shape())
                        + " is not a matrix, it cannot be read transposed");
            }
            int rows = e.shape()[0], cols = e.shape()[1];
            long n = e.elements();
            if (off < 0 || off + n > dst.length) {
                throw new IllegalArgumentException(file + ": tensor " + e.name() + " (" + n + " values) does not fit at "
                        + off + " in an array of " + dst.length);
            }
            // The block's rows lie a cache line further apart than the tensor's: with GPT-2's 3072 columns, rows
            // 12 KB apart all fall in one set of the L1 cache, and reading a column of 16 of them missed it each time.
            int stride = cols + TRANSPOSE_ROWS;
            float[] block = new float[TRANSPOSE_ROWS * stride];
            int rowBytes = cols * e.elementBytes();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate((long) TRANSPOSE_ROWS * rowBytes);
                for (int r0 = 0; r0 < rows; r0 += TRANSPOSE_ROWS) {
                    int m = Math.min(TRANSPOSE_ROWS, rows - r0);
                    readElements(e, (long) r0 * cols, m * cols, buf);
                    for (int r = 0; r < m; r++) {
                        widen(e, buf, (long) r * rowBytes, block, r * stride, cols);
                    }
                    for (int c = 0; c < cols; c++) {
                        int d = off + c * rows + r0;
                        for (int r = 0; r < m; r++) {
                            dst[d + r] = block[r * stride + c];
                        }
                    }
                }
            }
        }

        /** The bytes of elements [first, first + count) of the tensor into buf[0..]. */
        private void readElements(Entry e, long first, int count, MemorySegment buf) {
            long pos = dataStart + e.begin() + first * e.elementBytes();
            ByteBuffer b = buf.asByteBuffer().limit(count * e.elementBytes());
            try {
                while (b.hasRemaining()) {
                    if (channel.read(b, pos + b.position()) < 0) {
                        throw new IOException(file + ": tensor " + e.name() + ": the file ended at byte "
                                + (pos + b.position()) + " (was it truncated while being read?)");
                    }
                }
            } catch (IOException x) {
                throw new UncheckedIOException(x.getMessage(), x);
            }
        }

        /** count elements of the tensor's dtype from buf[from..] into dst[off..], widened to float. */
        private static void widen(Entry e, MemorySegment buf, long from, float[] dst, int off, int count) {
            switch (e.dtype()) {
                case "F32" -> MemorySegment.copy(buf, F32, from, dst, off, count);
                case "F16" -> {
                    for (int i = 0; i < count; i++) {
                        dst[off + i] = Float.float16ToFloat(buf.get(U16, from + 2L * i));
                    }
                }
                default -> { // BF16: the top half of a float
                    for (int i = 0; i < count; i++) {
                        dst[off + i] = Float.intBitsToFloat((buf.get(U16, from + 2L * i) & 0xffff) << 16);
                    }
                }
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // a channel opened only for reading: nothing written is lost
            }
        }
    }

    private static Entry entry(Path file, String name, JsonNode info, long dataLen) throws IOException {
        JsonNode dtype = info.get("dtype"), shapeNode = info.get("shape"), offsets = info.get("data_offsets");
        if (dtype == null || shapeNode == null || !shapeNode.isArray() || offsets == null || !offsets.isArray()
                || offsets.size() != 2) {
            throw bad(file, "tensor " + name + ": header entry needs dtype, shape and data_offsets [begin, end]");
        }
        int elemBytes = switch (dtype.asText()) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw bad(file, "tensor " + name + " has dtype " + dtype.asText()
                    + "; jgpt reads F32, F16 and BF16");
        };
        int[] shape = new int[shapeNode.size()];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = shapeNode.get(i).asLong(-1);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw bad(file, "tensor " + name + " has an invalid dimension " + shapeNode.get(i));
            }
            shape[i] = (int) d;
            n *= d;
            if (n > Integer.MAX_VALUE - 16) {
                throw bad(file, "tensor " + name + " " + shapeNode + " is too large for one array");
            }
        }
        long begin = offsets.get(0).asLong(-1), end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen) {
            throw bad(file, "tensor " + name + " data_offsets [" + begin + ", " + end + "] fall outside the "
                    + dataLen + " data bytes (truncated file?)");
        }
        if (end - begin != n * elemBytes) {
            throw bad(file, "tensor " + name + " " + dtype.asText() + " " + shapeNode + " needs " + n * elemBytes
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, dtype.asText(), shape, begin, end);
    }

    /** Fills buf (from position 0) with the bytes at pos.. of the file. */
    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) {
                throw new IOException("unexpected end of file at byte " + (pos + buf.position()));
            }
        }
    }

    /** Writes F32 tensors (in the map's order) atomically: a temp file beside the target, fsync, rename. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors.values().stream().map(t -> new Slice(t.name(), t.shape(), t.data(), 0, false)).toList(), metadata);
    }

    /**
     * A tensor to write, read in place from an array: the {@code shape}'s elements at values[offset..] in
     * row-major order or, if {@code transposed}, the [shape[1] × shape[0]] matrix there written transposed
     * (GPT-2's Conv1D weights). A model's parameters are written without a copy of them.
     */
    public record Slice(String name, int[] shape, float[] values, int offset, boolean transposed) {
        public Slice {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (offset < 0 || offset + n > values.length || transposed && shape.length != 2) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + (transposed ? " transposed" : "")
                        + " at offset " + offset + " does not fit in " + values.length + " values");
            }
        }

        long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        /** Element k of the tensor as stored (row-major in {@code shape}). */
        float get(long k) {
            if (!transposed) {
                return values[(int) (offset + k)];
            }
            int rows = shape[0], cols = shape[1], r = (int) (k / cols), c = (int) (k % cols);
            return values[offset + c * rows + r];
        }
    }

    /**
     * Writes F32 tensors (in the list's order) atomically — a temp file beside the target, fsync, rename —
     * a megabyte at a time, so nothing but the arrays they come from is held.
     */
    public static void write(Path file, List<Slice> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Slice t : tensors) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            var shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            e.putArray("data_offsets").add(offset).add(offset + 4L * t.elements());
            offset += 4L * t.elements();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // data starts 8-byte aligned, as the reference writer does
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer floats = chunk.asFloatBuffer();
            for (Slice t : tensors) {
                long total = t.elements();
                for (long i = 0; i < total; ) {
                    int n = (int) Math.min(total - i, floats.capacity());
                    floats.clear();
                    if (t.transposed()) {
                        for (int k = 0; k < n; k++) {
                            floats.put(t.get(i + k));
                        }
                    } else {
                        floats.put(t.values(), (int) (t.offset() + i), n);
                    }
                    out.write(chunk.array(), 0, n * 4);
                    i += n;
                }
            }
        });
    }

    private static IOException bad(Path file, String what) {
        return new IOException(file + ": " + what);
    }
}
