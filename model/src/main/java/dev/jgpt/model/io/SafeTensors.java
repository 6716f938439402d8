package dev.jgpt.model.io;

import dev.jgpt.common.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
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
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
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
            Map<String, Tensor> out = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                out.put(e.getKey(), readTensor(file, ch, e.getKey(), e.getValue(), dataStart, dataLen));
            }
            return new Contents(out, metadata);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file + ": no such file");
        }
    }

    private static Tensor readTensor(Path file, FileChannel ch, String name, JsonNode info, long dataStart,
                                     long dataLen) throws IOException {
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
        ByteBuffer raw = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, raw, dataStart + begin);
        raw.flip();
        float[] data = new float[(int) n];
        switch (dtype.asText()) {
            case "F32" -> raw.asFloatBuffer().get(data);
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    data[i] = Float.float16ToFloat(raw.getShort());
                }
            }
            default -> { // BF16: the top half of a float
                for (int i = 0; i < n; i++) {
                    data[i] = Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                }
            }
        }
        return new Tensor(name, shape, data);
    }

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
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors.values()) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            var shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            e.putArray("data_offsets").add(offset).add(offset + 4L * t.data().length);
            offset += 4L * t.data().length;
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
            for (Tensor t : tensors.values()) {
                float[] d = t.data();
                for (int i = 0; i < d.length; ) {
                    int n = Math.min(d.length - i, floats.capacity());
                    floats.clear();
                    floats.put(d, i, n);
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
