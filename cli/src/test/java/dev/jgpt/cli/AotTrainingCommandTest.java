package dev.jgpt.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The AOT cache's training run (bin/aot-cache.sh) works, and leaves nothing behind. */
@Tag("slow")
class AotTrainingCommandTest {
    @Test
    void generatesAndTrainsOnTinyModelsThenCleansUp() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before = trainingFolders(tmp);
        CliRun r = CliRun.run("aot-training");
        assertEquals(0, r.exit(), r.err());
        assertEquals(before, trainingFolders(tmp), "the training run's temporary folder is removed");
        assertTrue(AotTrainingCommand.text().length() > 20_000, "enough text for a tokenizer and a few batches");
    }

    private static long trainingFolders(Path tmp) throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("jgpt-aot-training")).count();
        }
    }
}
