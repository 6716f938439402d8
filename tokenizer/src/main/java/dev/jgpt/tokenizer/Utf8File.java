package dev.jgpt.tokenizer;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a UTF-8 text file block by block, strictly: a malformed byte sequence is an error that
 * names its byte offset, never a silent U+FFFD.
 */
public final class Utf8File implements Closeable {
    private final Path file;
    private final FileChannel channel;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer in;
    private final CharBuffer out;
    private long consumed;      // bytes decoded before in's position 0
    private boolean done;
    private java.security.MessageDigest digest;

    public Utf8File(Path file, int blockBytes) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file);
        this.in = ByteBuffer.allocate(Math.max(16, blockBytes));
        this.out = CharBuffer.allocate(in.capacity());   // UTF-8 never gives more chars than bytes
    }

    /** The whole file as a string (for corpora that fit in memory). */
    public static String readString(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException(file + " is too large to read at once (" + size + " bytes)");
        }
        StringBuilder sb = new StringBuilder((int) size);
        try (Utf8File f = new Utf8File(file, 1 << 20)) {
            while (f.readBlock(sb)) {
                // keep reading
            }
        }
        return sb.toString();
    }

    /**
     * Decodes bytes that are not in a file (standard input, ...) as strictly as files;
     * {@code source} names them in the error.
     */
    public static String decode(byte[] bytes, String source) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new IllegalArgumentException(source + " is not valid UTF-8: invalid byte sequence "
                    + hex(in, result.length()) + " at byte offset " + in.position());
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    private static String hex(ByteBuffer in, int length) {
        StringBuilder bytes = new StringBuilder();
        for (int i = 0; i < length; i++) {
            bytes.append(i == 0 ? "" : " ").append(String.format("0x%02X", in.get(in.position() + i) & 0xFF));
        }
        return bytes.toString();
    }

    /**
     * Appends the text of the next block to {@code sb}.
     *
     * @return false once the end of the file has been reached (nothing appended)
     * @throws IllegalArgumentException if the file is not valid UTF-8
     */
    public boolean readBlock(StringBuilder sb) throws IOException {
        if (done) {
            return false;
        }
        int start = in.position();
        boolean end = channel.read(in) < 0;
        if (digest != null) {
            digest.update(in.array(), start, in.position() - start);
        }
        in.flip();
        out.clear();
        CoderResult result = decoder.decode(in, out, end);
        if (result.isError()) {
            throw malformed(result.length());
        }
        if (end) {
            decoder.flush(out);
            done = true;
        }
        out.flip();
        sb.append(out);
        consumed += in.position();
        in.compact();
        return true;
    }

    /** Also feeds every byte read to {@code digest} (e.g. to hash the file in the same pass). */
    public Utf8File digest(java.security.MessageDigest digest) {
        this.digest = digest;
        return this;
    }

    /** Bytes read and decoded so far. */
    public long bytesRead() {
        return consumed;
    }

    private IllegalArgumentException malformed(int length) {
        long offset = consumed + in.position();
        return new IllegalArgumentException(file + " is not valid UTF-8: invalid byte sequence " + hex(in, length)
                + " at byte offset " + offset);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
