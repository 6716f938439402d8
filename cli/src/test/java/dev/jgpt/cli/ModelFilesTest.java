package dev.jgpt.cli;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model directory's tokenizer loads beside its weights, with the errors of loading one after the other. */
class ModelFilesTest {
    @TempDir
    Path tmp;

    private static final CharTokenizer CHARS = CharTokenizer.fromText("abcdefgh ");

    private Path model(String name, boolean withTokenizer) throws IOException {
        Path dir = tmp.resolve(name);
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), 8, 1, 1, 4), 1), dir);
        if (withTokenizer) {
            CHARS.save(dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    @Test
    void theTokenizerIsTheDirectorysAndEachCallGivesOneToClose() throws IOException {
        try (ModelFiles files = ModelFiles.load(model("m", true))) {
            Tokenizer first = files.tokenizer(), second = files.tokenizer();
            assertArrayEquals(CHARS.encode("bad cafe"), first.encode("bad cafe"));
            assertArrayEquals(CHARS.encode("bad cafe"), second.encode("bad cafe"));
            assertNotSame(first, second, "the caller closes each one it is given");
            assertEquals(CHARS.vocabSize(), files.gpt().config.vocabSize());
        }
        try (ModelFiles untaken = ModelFiles.load(model("n", true))) {
            assertEquals(4, untaken.gpt().config.nEmbd());   // closing releases the tokenizer nobody took
        }
    }

    @Test
    void aMissingTokenizerIsReportedWhenAskedFor() throws IOException {
        try (ModelFiles files = ModelFiles.load(model("no-tokenizer", false))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, files::tokenizer);
            assertTrue(e.getMessage().contains("no tokenizer.json in directory"), e.getMessage());
        }
    }

    @Test
    void theWeightsErrorComesFirstWhenBothAreMissing() throws IOException {
        Path dir = model("neither", false);
        Files.delete(dir.resolve(ModelDir.WEIGHTS));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ModelFiles.load(dir));
        assertTrue(e.getMessage().contains(ModelDir.WEIGHTS), e.getMessage());
    }
}
