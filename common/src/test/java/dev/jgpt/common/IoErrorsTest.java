package dev.jgpt.common;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IoErrorsTest {
    @Test
    void fileErrorsNameTheFileAndTheReasonInWords(@TempDir Path tmp) throws IOException {
        assertEquals("/data/x: permission denied", IoErrors.describe(new AccessDeniedException("/data/x")));
        assertEquals("/data/x: no space left on device",
                IoErrors.describe(new FileSystemException("/data/x", null, "No space left on device")));
        assertEquals("no space left on device", IoErrors.describe(new IOException("No space left on device")));
        assertEquals("IOException", IoErrors.describe(new IOException()));
        assertEquals("/m/config.json: missing", IoErrors.describe(new java.nio.file.NoSuchFileException("/m/config.json: missing")),
                "a message already written as a sentence is kept");

        Path file = Files.writeString(tmp.resolve("file"), "x");
        IOException notADir = assertThrows(IOException.class, () -> Files.createDirectories(file.resolve("sub")));
        assertTrue(IoErrors.describe(notADir).matches(java.util.regex.Pattern.quote(file.toString()) + "(/sub)?: not a directory"),
                IoErrors.describe(notADir));
        IOException missing = assertThrows(IOException.class, () -> Files.readString(tmp.resolve("missing")));
        assertEquals(tmp.resolve("missing") + ": no such file or directory", IoErrors.describe(missing));
        assertEquals("no such file or directory", IoErrors.describe(missing, tmp.resolve("missing")),
                "the file the caller already names is not repeated");
    }

    @Test
    void anAtomicWriteThatFailsNamesItsFile(@TempDir Path tmp) {
        Path target = tmp.resolve("out.bin");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            throw new IOException("No space left on device");
        }));
        assertEquals(target + ": no space left on device", IoErrors.describe(e));
        assertEquals(0, tmp.toFile().list().length, "no temp file is left");
    }
}
