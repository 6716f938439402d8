package dev.jgpt.spark;

import dev.jgpt.common.TokenSequence;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A nanoGPT token file (raw little-endian uint16 ids) read through Hadoop's {@link FileSystem}: a local or
 * shared path, HDFS or S3, whatever the cluster's Hadoop configuration reaches. Each window is one
 * positioned read, so a worker reads only the windows of its own micro-batches, never the whole file.
 */
final class HadoopTokenFile implements TokenSequence, AutoCloseable {
    private final String uri;
    private final FSDataInputStream in;
    private final long size;
    private byte[] buffer = new byte[0];

    private HadoopTokenFile(String uri, FSDataInputStream in, long size) {
        this.uri = uri;
        this.in = in;
        this.size = size;
    }

    static HadoopTokenFile open(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        FileSystem fs = path.getFileSystem(conf);
        long bytes = fs.getFileStatus(path).getLen();
        if (bytes % 2 != 0) {
            throw new IOException("corrupt token file " + uri + ": " + bytes + " bytes is not a whole number of uint16 tokens");
        }
        return new HadoopTokenFile(uri, fs.open(path), bytes / 2);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public synchronized void read(long start, int[] dst, int off, int n) {
        if (start < 0 || n < 0 || start + n > size) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + n) + ") of " + uri + " (" + size + " tokens)");
        }
        if (buffer.length < 2 * n) {
            buffer = new byte[2 * n];
        }
        try {
            in.readFully(2 * start, buffer, 0, 2 * n);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + uri + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < n; i++) {
            dst[off + i] = (buffer[2 * i] & 0xFF) | (buffer[2 * i + 1] & 0xFF) << 8;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    @Override
    public String toString() {
        return uri + " (" + size + " tokens)";
    }
}
