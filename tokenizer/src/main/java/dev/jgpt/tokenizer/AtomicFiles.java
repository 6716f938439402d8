package dev.jgpt.tokenizer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Writes files so that readers see either the old file or the complete new one, never a part. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes {@code target} through {@code body}: to a temporary file beside it, then renamed. */
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = tempSibling(target);
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(out);
            }
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * A fresh hidden name beside {@code target} for its temporary file. Unlike
     * {@code Files.createTempFile} (mode 0600), a file created there gets the usual permissions.
     */
    public static Path tempSibling(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        long random = java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
        return dir.resolve("." + target.getFileName() + "." + Long.toString(random, 36) + ".tmp");
    }

    /** Renames {@code from} to {@code to}, replacing it; atomically where the file system can. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a directory tree, quietly (used to clean up after a failure). */
    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: the caller is already reporting the real failure
                }
            });
        } catch (IOException ignored) {
            // best effort, as above
        }
    }
}
