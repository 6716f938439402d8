package dev.jgpt.model.io.gguf;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.quant.WeightMatrix;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file (version 3, little-endian) the way llama.cpp's writer lays it out: header,
 * metadata, tensor infos, padding to the alignment, then each tensor's bytes at consecutive offsets,
 * each padded to the alignment with zeros. Tensors are written from their MemorySegments as they are
 * (quantized blocks stay quantized). The file appears atomically (temp file, fsync, rename).
 *
 * <pre>
 * new GgufWriter()
 *     .put("general.architecture", GgufValue.string("gpt2"))
 *     .tensor("blk.0.attn_qkv.weight", qkvMatrix)           // WeightMatrix [rows × cols] → dims [cols, rows]
 *     .tensor("blk.0.attn_norm.bias", bias, bias.length)    // f32, row-major shape
 *     .write(path);
 * </pre>
 */
public final class GgufWriter {
    private record Entry(String name, GgmlType type, long[] dims, MemorySegment data) {}

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Sets general.alignment (a power of two; 32 when not set, and then not written). */
    public GgufWriter alignment(int a) {
        if (a <= 0 || (a & (a - 1)) != 0) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + a);
        }
        alignment = a;
        metadata.put(GgufFile.ALIGNMENT_KEY, GgufValue.uint32(a));
        return this;
    }

    /** Adds a key-value pair, in order; keys are unique. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata keys must be non-empty");
        }
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            if (value.type() != GgufType.UINT32) {
                throw new IllegalArgumentException(key + " must be UINT32, got " + value.type());
            }
            return alignment((int) value.asLong());
        }
        if (metadata.putIfAbsent(key, value) != null) {
            throw new IllegalArgumentException("metadata key " + key + " is already set");
        }
        return this;
    }

    /**
     * Adds a tensor: its bytes in the given type, dims in ggml order (innermost first, see
     * {@link GgufTensor}). The segment must hold exactly the bytes the type and dims take.
     */
    public GgufWriter tensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > GgufFile.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name must be 1 to " + GgufFile.MAX_NAME_BYTES + " bytes: " + name);
        }
        if (dims.length < 1 || dims.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": 1 to 4 dimensions, got " + dims.length);
        }
        long elements = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(dims));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (dims[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + dims[0] + " " + type
                    + " elements are not a multiple of the block size " + type.blockSize);
        }
        long bytes = elements / type.blockSize * type.typeSize;
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + type + " " + Arrays.toString(dims) + " takes "
                    + bytes + " bytes, the data has " + data.byteSize());
        }
        if (tensors.putIfAbsent(name, new Entry(name, type, dims.clone(), data)) != null) {
            throw new IllegalArgumentException("tensor " + name + " is already added");
        }
        return this;
    }

    /** A weight matrix W [rows × cols] in its own type: ggml dims [cols, rows]. */
    public GgufWriter tensor(String name, WeightMatrix w) {
        return tensor(name, GgmlType.of(w.type()), new long[] {w.cols(), w.rows()}, w.data());
    }

    /** An f32 tensor of the given row-major shape (ggml dims are its reverse). */
    public GgufWriter tensor(String name, float[] values, long... shape) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        return tensor(name, GgmlType.F32, dims, seg);
    }

    /** Writes the file atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, out -> writeTo(out));
    }

    private void writeTo(OutputStream raw) throws IOException {
        Out out = new Out(raw);
        out.bytes(GgufFile.MAGIC);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
            out.string(kv.getKey());
            out.u32(kv.getValue().type().id);
            out.value(kv.getValue());
        }
        List<Entry> order = new ArrayList<>(tensors.values());
        long offset = 0;
        for (Entry t : order) {
            out.string(t.name());
            out.u32(t.dims().length);
            for (long d : t.dims()) {
                out.u64(d);
            }
            out.u32(t.type().id);
            out.u64(offset);
            offset += padded(t.data().byteSize());
        }
        out.pad(alignment);
        byte[] chunk = new byte[1 << 20];
        for (Entry t : order) {
            MemorySegment d = t.data();
            for (long o = 0; o < d.byteSize(); o += chunk.length) {
                int n = (int) Math.min(chunk.length, d.byteSize() - o);
                MemorySegment.copy(d, ValueLayout.JAVA_BYTE, o, chunk, 0, n);
                out.bytes(chunk, n);
            }
            out.pad(alignment);
        }
    }

    private long padded(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** Little-endian primitives, counting the bytes written (for the padding). */
    private static final class Out {
        final OutputStream out;
        final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(OutputStream out) {
            this.out = out;
        }

        void bytes(byte[] b) throws IOException {
            bytes(b, b.length);
        }

        void bytes(byte[] b, int n) throws IOException {
            out.write(b, 0, n);
            written += n;
        }

        private void flushBuf() throws IOException {
            bytes(buf.array(), buf.position());
            buf.clear();
        }

        void u8(int v) throws IOException {
            buf.put((byte) v);
            flushBuf();
        }

        void u16(int v) throws IOException {
            buf.putShort((short) v);
            flushBuf();
        }

        void u32(int v) throws IOException {
            buf.putInt(v);
            flushBuf();
        }

        void u64(long v) throws IOException {
            buf.putLong(v);
            flushBuf();
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) {
                u8(0);
            }
        }

        void value(GgufValue v) throws IOException {
            Object x = v.raw();
            switch (v.type()) {
                case UINT8, INT8 -> u8((Integer) x);
                case UINT16, INT16 -> u16((Integer) x);
                case UINT32 -> u32((int) (long) (Long) x);
                case INT32 -> u32((Integer) x);
                case UINT64, INT64 -> u64((Long) x);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) x));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) x));
                case BOOL -> u8((Boolean) x ? 1 : 0);
                case STRING -> string((String) x);
                case ARRAY -> array(v);
            }
        }

        void array(GgufValue v) throws IOException {
            u32(v.elementType().id);
            u64(v.length());
            switch (v.raw()) {
                case byte[] a -> bytes(a);
                case short[] a -> { for (short e : a) u16(e); }
                case int[] a -> { for (int e : a) u32(e); }
                case long[] a -> { for (long e : a) u64(e); }
                case float[] a -> { for (float e : a) u32(Float.floatToRawIntBits(e)); }
                case double[] a -> { for (double e : a) u64(Double.doubleToRawLongBits(e)); }
                case boolean[] a -> { for (boolean e : a) u8(e ? 1 : 0); }
                case String[] a -> { for (String e : a) string(e); }
                case GgufValue[] a -> { for (GgufValue e : a) array(e); }
                default -> throw new IllegalStateException("not an array: " + v);
            }
        }
    }
}
