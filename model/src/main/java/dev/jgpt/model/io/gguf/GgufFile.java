package dev.jgpt.model.io.gguf;

import dev.jgpt.kernel.quant.MappedPages;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3, little-endian: llama.cpp's docs/gguf.md), memory-mapped: the
 * metadata is parsed into {@link GgufValue}s, the tensors are slices of the mapping used in place
 * (never copied or widened). Valid while open; {@link #close} unmaps, after which touching a
 * tensor's data throws IllegalStateException.
 *
 * <p>Hostile or damaged files: every count, length, offset and size is checked against the bytes
 * that are left before anything is read or allocated for it (so a header claiming 2⁶⁰ tensors or a
 * 1 TB string fails at once, allocating nothing); a tensor whose type is unknown, whose first
 * dimension is not a multiple of its block size, whose data is misaligned, outside the file or
 * overlapping another, or a truncated file gives one IOException naming the file and the key or
 * tensor at fault. The checks follow llama.cpp's reader (gguf.cpp): tensor names under 64 bytes,
 * at most 4 dimensions, general.alignment a uint32 power of two (default 32), unique keys and names.
 */
public final class GgufFile implements AutoCloseable {
    static final byte[] MAGIC = {'G', 'G', 'U', 'F'};
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    static final int MAX_NAME_BYTES = 63;
    static final int MAX_DIMS = 4;
    /** Arrays nested deeper than this are refused (a hostile file could otherwise recurse without end). */
    static final int MAX_NESTING = 64;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final int version;
    private final int alignment;
    private final long dataStart;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;

    private GgufFile(Path file, Arena arena, int version, int alignment, long dataStart,
                     Map<String, GgufValue> metadata, Map<String, GgufTensor> tensors) {
        this.file = file;
        this.arena = arena;
        this.version = version;
        this.alignment = alignment;
        this.dataStart = dataStart;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Maps and parses a GGUF file. Errors are IOExceptions whose message starts with the file's path. */
    public static GgufFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment map = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MappedPages.adviseHugePages(map);   // before any page is read: see there
            GgufFile g = new Parser(file, map).parse(arena);
            return g;
        } catch (NoSuchFileException e) {
            arena.close();
            throw new NoSuchFileException(file + ": no such file");
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public int version() {
        return version;
    }

    /** general.alignment, or 32 when the file does not set it. */
    public int alignment() {
        return alignment;
    }

    /** Where the tensor data section starts (tensor offsets in the file are relative to it). */
    public long dataStart() {
        return dataStart;
    }

    /** Every key-value pair, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Every tensor, by name, in file order. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** The value of a key the caller needs: a missing key is an IOException naming the file and the key. */
    public GgufValue require(String key) throws IOException {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw bad(file, "has no metadata key " + key);
        }
        return v;
    }

    public GgufTensor tensor(String name) throws IOException {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw bad(file, "has no tensor " + name);
        }
        return t;
    }

    /** A 2-D tensor (or one with more dimensions, rows folded) as a weight matrix over the mapped bytes. */
    public WeightMatrix matrix(String name) throws IOException {
        GgufTensor t = tensor(name);
        WeightType w = t.type().weightType();
        if (w == null) {
            throw bad(file, "tensor " + name + " has type " + t.type() + ", which jgpt cannot compute with"
                    + " (it reads f32, f16, bf16, q8_0, q4_0, q4_K and q6_K)");
        }
        if (t.rows() > Integer.MAX_VALUE || t.cols() > Integer.MAX_VALUE || t.rows() == 0) {
            throw bad(file, "tensor " + name + " " + java.util.Arrays.toString(t.dims()) + " is not a matrix jgpt can hold");
        }
        return WeightMatrix.wrap(w, (int) t.rows(), (int) t.cols(), t.data());
    }

    /** A tensor's values as floats, dequantized (for small tensors: norms, biases). */
    public float[] floats(String name) throws IOException {
        GgufTensor t = tensor(name);
        if (t.elements() > Integer.MAX_VALUE - 16) {
            throw bad(file, "tensor " + name + " has " + t.elements() + " elements, too many for one array");
        }
        if (t.elements() == 0) {
            return new float[0];
        }
        return matrix(name).dequantize();
    }

    @Override
    public void close() {
        arena.close();
    }

    static IOException bad(Path file, String what) {
        return new IOException(file + ": " + what);
    }

    /** Reads the header with a cursor that checks every length against the bytes left. */
    private static final class Parser {
        final Path file;
        final MemorySegment map;
        final long size;
        long pos;

        Parser(Path file, MemorySegment map) {
            this.file = file;
            this.map = map;
            this.size = map.byteSize();
        }

        long left() {
            return size - pos;
        }

        void need(long n, String what) throws IOException {
            if (n > left()) {
                throw bad(file, "is truncated: " + what + " needs " + n + " bytes at offset " + pos + " but only "
                        + left() + " are left");
            }
        }

        int u8(String what) throws IOException {
            need(1, what);
            return map.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
        }

        short u16(String what) throws IOException {
            need(2, what);
            short v = map.get(U16, pos);
            pos += 2;
            return v;
        }

        int u32(String what) throws IOException {
            need(4, what);
            int v = map.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) throws IOException {
            need(8, what);
            long v = map.get(U64, pos);
            pos += 8;
            return v;
        }

        /**
         * A count or length (a uint64) of things taking at least {@code unitBytes} each: it must fit in
         * the bytes left, which is checked before anything is allocated for it.
         */
        int count(String what, int unitBytes) throws IOException {
            long n = u64(what);
            if (n < 0 || n > left() / unitBytes) {
                throw bad(file, what + " is " + Long.toUnsignedString(n) + ", more than the " + left()
                        + " bytes left can hold (truncated or damaged file)");
            }
            if (n > Integer.MAX_VALUE - 16) {
                throw bad(file, what + " is " + n + ", more than jgpt can hold");
            }
            return (int) n;
        }

        String string(String what) throws IOException {
            int len = count(what + " length", 1);
            byte[] b = new byte[len];
            MemorySegment.copy(map, ValueLayout.JAVA_BYTE, pos, b, 0, len);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, what + " is not valid UTF-8");
            }
        }

        /** A tensor info before the data section's position is known. */
        private record Info(String name, GgmlType type, long[] dims, long offset, long bytes) {}

        GgufFile parse(Arena arena) throws IOException {
            need(4, "the magic GGUF");
            for (int i = 0; i < 4; i++) {
                if (map.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) {
                    throw bad(file, "is not a GGUF file (it does not start with the bytes GGUF)");
                }
            }
            pos = 4;
            int version = u32("the version");
            if (version != 2 && version != 3) {
                throw bad(file, version != 0 && (version & 0xffff) == 0 ? "is a big-endian GGUF file (version bytes "
                        + Integer.toHexString(version) + "), which jgpt does not read"
                        : "has GGUF version " + Integer.toUnsignedString(version) + "; jgpt reads versions 2 and 3");
            }
            // Each tensor info takes at least 24 bytes and each key-value pair 13: counts that could not
            // fit in the file are refused before any list is sized by them.
            int tensorCount = count("the tensor count", 24);
            int kvCount = count("the metadata count", 13);
            Map<String, GgufValue> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("metadata key #" + i);
                if (key.isEmpty()) {
                    throw bad(file, "metadata key #" + i + " is empty");
                }
                if (metadata.containsKey(key)) {
                    throw bad(file, "has the metadata key " + key + " twice");
                }
                GgufType type = valueType("key " + key);
                metadata.put(key, value(type, "key " + key, 0));
            }
            int alignment = DEFAULT_ALIGNMENT;
            GgufValue a = metadata.get(ALIGNMENT_KEY);
            if (a != null) {
                if (a.type() != GgufType.UINT32) {
                    throw bad(file, "key " + ALIGNMENT_KEY + " is " + a.type() + ", it must be UINT32");
                }
                long al = a.asLong();
                if (al == 0 || (al & (al - 1)) != 0 || al > (1 << 30)) {
                    throw bad(file, "key " + ALIGNMENT_KEY + " is " + al + ", not a power of two");
                }
                alignment = (int) al;
            }
            List<Info> infos = new ArrayList<>();
            Map<String, Info> byName = new LinkedHashMap<>();
            for (int i = 0; i < tensorCount; i++) {
                String name = string("tensor name #" + i);
                if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                    throw bad(file, "tensor " + name + ": the name is longer than " + MAX_NAME_BYTES + " bytes");
                }
                if (byName.containsKey(name)) {
                    throw bad(file, "has the tensor " + name + " twice");
                }
                String t = "tensor " + name;
                int nDims = u32(t + " dimension count");
                if (nDims < 0 || nDims > MAX_DIMS) {
                    throw bad(file, t + " has " + Integer.toUnsignedString(nDims) + " dimensions; at most " + MAX_DIMS);
                }
                long[] dims = new long[nDims];
                long elements = 1;
                for (int d = 0; d < nDims; d++) {
                    dims[d] = u64(t + " dimension " + d);
                    if (dims[d] < 0) {
                        throw bad(file, t + " dimension " + d + " is " + Long.toUnsignedString(dims[d]));
                    }
                    try {
                        elements = Math.multiplyExact(elements, dims[d]);
                    } catch (ArithmeticException e) {
                        throw bad(file, t + " " + java.util.Arrays.toString(dims) + " has more than 2^63 elements");
                    }
                }
                int typeId = u32(t + " type");
                GgmlType type = GgmlType.of(Integer.toUnsignedLong(typeId));
                if (type == null) {
                    throw bad(file, t + " has unknown tensor type " + Integer.toUnsignedString(typeId));
                }
                long rowLen = nDims == 0 ? 1 : dims[0];
                if (rowLen % type.blockSize != 0) {
                    throw bad(file, t + " has rows of " + rowLen + " " + type + " elements, not a multiple of its block size "
                            + type.blockSize);
                }
                long bytes;
                try {
                    bytes = Math.multiplyExact(elements / type.blockSize, (long) type.typeSize);
                } catch (ArithmeticException e) {
                    throw bad(file, t + " " + java.util.Arrays.toString(dims) + " takes more than 2^63 bytes");
                }
                long offset = u64(t + " data offset");
                if (offset < 0 || offset % alignment != 0) {
                    throw bad(file, t + " data offset " + Long.toUnsignedString(offset)
                            + " is not a multiple of the alignment " + alignment);
                }
                Info info = new Info(name, type, dims, offset, bytes);
                infos.add(info);
                byName.put(name, info);
            }
            long dataStart = tensorCount == 0 ? pos : (pos + alignment - 1) / alignment * alignment;
            if (dataStart > size) {
                throw bad(file, "is truncated: the tensor data would start at byte " + dataStart + " but the file has "
                        + size + " bytes");
            }
            long dataBytes = size - dataStart;
            Map<String, GgufTensor> tensors = new LinkedHashMap<>();
            for (Info info : infos) {
                long bytes = info.bytes(), off = info.offset();
                if (off > dataBytes || bytes > dataBytes - off) {
                    throw bad(file, "tensor " + info.name() + " (" + info.type() + " " + java.util.Arrays.toString(info.dims())
                            + ", " + bytes + " bytes at data offset " + off + ") ends past the end of the file, which has "
                            + dataBytes + " bytes of tensor data (truncated?)");
                }
                tensors.put(info.name(), new GgufTensor(info.name(), info.type(), info.dims(), dataStart + off,
                        map.asSlice(dataStart + off, bytes)));
            }
            List<GgufTensor> sorted = new ArrayList<>(tensors.values());
            sorted.sort(Comparator.comparingLong(GgufTensor::offset));
            for (int i = 1; i < sorted.size(); i++) {
                GgufTensor p = sorted.get(i - 1), q = sorted.get(i);
                if (p.offset() + p.byteSize() > q.offset()) {
                    throw bad(file, "tensors " + p.name() + " and " + q.name() + " overlap");
                }
            }
            return new GgufFile(file, arena, version, alignment, dataStart, metadata, tensors);
        }

        GgufType valueType(String what) throws IOException {
            int id = u32(what + " value type");
            GgufType t = GgufType.of(Integer.toUnsignedLong(id));
            if (t == null) {
                throw bad(file, what + " has unknown value type " + Integer.toUnsignedString(id));
            }
            return t;
        }

        GgufValue value(GgufType type, String what, int depth) throws IOException {
            return switch (type) {
                case UINT8 -> GgufValue.scalar(type, u8(what));
                case INT8 -> GgufValue.scalar(type, (int) (byte) u8(what));
                case UINT16 -> GgufValue.scalar(type, u16(what) & 0xffff);
                case INT16 -> GgufValue.scalar(type, (int) u16(what));
                case UINT32 -> GgufValue.scalar(type, Integer.toUnsignedLong(u32(what)));
                case INT32 -> GgufValue.scalar(type, u32(what));
                case FLOAT32 -> GgufValue.scalar(type, Float.intBitsToFloat(u32(what)));
                case UINT64, INT64 -> GgufValue.scalar(type, u64(what));
                case FLOAT64 -> GgufValue.scalar(type, Double.longBitsToDouble(u64(what)));
                case BOOL -> {
                    int b = u8(what);
                    if (b > 1) {
                        throw bad(file, what + " is a boolean byte " + b + ", neither 0 nor 1");
                    }
                    yield GgufValue.scalar(type, b == 1);
                }
                case STRING -> GgufValue.scalar(type, string(what));
                case ARRAY -> array(what, depth);
            };
        }

        GgufValue array(String what, int depth) throws IOException {
            if (depth >= MAX_NESTING) {
                throw bad(file, what + " nests arrays more than " + MAX_NESTING + " deep");
            }
            GgufType et = valueType(what + " array");
            int len = count(what + " array length (" + et + " elements)", et.minBytes);
            Object out;
            switch (et) {
                case UINT8, INT8 -> {
                    byte[] a = new byte[len];
                    MemorySegment.copy(map, ValueLayout.JAVA_BYTE, pos, a, 0, len);
                    out = a;
                }
                case UINT16, INT16 -> {
                    short[] a = new short[len];
                    MemorySegment.copy(map, U16, pos, a, 0, len);
                    out = a;
                }
                case UINT32, INT32 -> {
                    int[] a = new int[len];
                    MemorySegment.copy(map, U32, pos, a, 0, len);
                    out = a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[len];
                    MemorySegment.copy(map, U64, pos, a, 0, len);
                    out = a;
                }
                case FLOAT32 -> {
                    float[] a = new float[len];
                    MemorySegment.copy(map, F32, pos, a, 0, len);
                    out = a;
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    MemorySegment.copy(map, F64, pos, a, 0, len);
                    out = a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        int b = map.get(ValueLayout.JAVA_BYTE, pos + i);
                        if (b != 0 && b != 1) {
                            throw bad(file, what + "[" + i + "] is a boolean byte " + (b & 0xff) + ", neither 0 nor 1");
                        }
                        a[i] = b == 1;
                    }
                    out = a;
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = string(what + "[" + i + "]");
                    }
                    return GgufValue.ownedArray(et, a);
                }
                case ARRAY -> {
                    GgufValue[] a = new GgufValue[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = array(what + "[" + i + "]", depth + 1);
                    }
                    return GgufValue.ownedArray(et, a);
                }
                default -> throw new AssertionError(et);
            }
            pos += (long) len * et.minBytes;   // fixed-size elements: all within the bytes counted above
            return GgufValue.ownedArray(et, out);
        }
    }
}
