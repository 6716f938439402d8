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
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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

    /** The weight cache is jgpt's cache folder's unless an environment variable or a property (which wins) moves or turns it off. */
    @Test
    void theWeightCacheIsMovedOrTurnedOffByTheEnvironmentOrAProperty() {
        String was = System.clearProperty(ModelFiles.WEIGHT_CACHE_PROPERTY);
        try {
            assertEquals(Path.of("/x/jgpt/weights"), ModelFiles.weightCache(Map.of("XDG_CACHE_HOME", "/x")));
            assertEquals(Path.of("/y"), ModelFiles.weightCache(Map.of("XDG_CACHE_HOME", "/x", ModelFiles.WEIGHT_CACHE_ENV, "/y")));
            assertNull(ModelFiles.weightCache(Map.of(ModelFiles.WEIGHT_CACHE_ENV, "off")));
            System.setProperty(ModelFiles.WEIGHT_CACHE_PROPERTY, "off");
            assertNull(ModelFiles.weightCache(Map.of(ModelFiles.WEIGHT_CACHE_ENV, "/y")));
        } finally {
            restore(was);
        }
    }

    /**
     * generate on a GPT-2 directory: the first run writes the side file and says so in one line, the next reads it
     * silently, and both print the greedy text of the weights used as stored and of the weights copied into the heap.
     */
    @Test
    void generateWritesTheSideFileOnceAndPrintsTheSameGreedyText() throws IOException {
        Path dir = tmp.resolve("gpt2");
        dev.jgpt.model.GPT m = new dev.jgpt.model.GPT(GPTConfig.of(CHARS.vocabSize(), 32, 2, 2, 32), 4);
        dev.jgpt.model.Param wte = m.param("transformer.wte.weight");
        for (int i = 0; i < wte.data.length; i++) {   // larger logits than init's, so greedy text depends on the weights
            wte.data[i] *= 40;
        }
        ModelDir.save(m, dir);
        CHARS.save(dir.resolve("tokenizer.json"));
        Path cache = tmp.resolve("cache");
        String[] args = {"generate", "--model", dir.toString(), "-p", "bad", "-n", "24", "--temp", "0"};
        String was = System.getProperty(ModelFiles.WEIGHT_CACHE_PROPERTY);
        try {
            System.setProperty(ModelFiles.WEIGHT_CACHE_PROPERTY, cache.toString());
            CliRun first = CliRun.run(args), second = CliRun.run(args);
            assertEquals(0, first.exit(), first.err());
            assertTrue(first.err().contains("jgpt: writing the transposed matrices row-major once")
                    && first.err().contains(cache.toString()), first.err());
            assertTrue(!second.err().contains("row-major"), second.err());
            try (var files = Files.list(cache)) {
                assertEquals(1, files.count(), "the side file, no temporary file");
            }
            System.setProperty(ModelFiles.WEIGHT_CACHE_PROPERTY, "off");
            CliRun stored = CliRun.run(args);
            System.setProperty("jgpt.mapweights", "false");
            CliRun heap = CliRun.run(args);
            assertEquals(stored.out(), first.out());
            assertEquals(stored.out(), second.out());
            assertEquals(heap.out(), first.out());
            assertTrue(first.out().strip().length() > 20, first.out());
        } finally {
            System.clearProperty("jgpt.mapweights");
            restore(was);
        }
    }

    private static void restore(String was) {
        if (was == null) {
            System.clearProperty(ModelFiles.WEIGHT_CACHE_PROPERTY);
        } else {
            System.setProperty(ModelFiles.WEIGHT_CACHE_PROPERTY, was);
        }
    }
}
