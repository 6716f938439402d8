package dev.jgpt.cli;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelWarmUpTest {

    @Test
    void closeStopsItAndWaitsForIt() {
        KernelWarmUp warmUp = KernelWarmUp.start();
        assertNotNull(warmUp);
        warmUp.close();
        assertFalse(warmUp.running(), "nothing of the warm-up runs once close returns");
        warmUp.close();   // closing twice is harmless
    }

    @Test
    void finishEndsIt() {
        KernelWarmUp warmUp = KernelWarmUp.start();
        assertNotNull(warmUp);
        warmUp.finish();
        assertFalse(warmUp.running(), "nothing of the warm-up runs once finish returns");
        warmUp.close();
    }

    /** For a model used in place: of GPT-2's family, Llama's, or GPT-2's if the config cannot be read. */
    @Test
    void theMappedWarmUpRunsToItsEnd(@TempDir Path tmp) throws Exception {
        ModelDir.save(new GPT(GPTConfig.of(19, 16, 1, 2, 8), 7), tmp.resolve("gpt2"));
        ModelDir.save(new GPT(GPTConfig.llama(19, 16, 1, 2, 1, 8, 24), 7), tmp.resolve("llama"));
        for (String dir : new String[] {"gpt2", "llama", "no-such-model"}) {
            KernelWarmUp warmUp = KernelWarmUp.start(tmp.resolve(dir));
            assertNotNull(warmUp);
            warmUp.finish();
            assertFalse(warmUp.running(), "nothing of the warm-up runs once finish returns");
            assertTrue(warmUp.completed(), dir + ": the warm-up ended on an exception");
        }
        KernelWarmUp heap = KernelWarmUp.start();
        heap.finish();
        assertTrue(heap.completed());
    }

    /** Greedy text from the matrices in place (generate's default for a directory) is the copied model's. */
    @Test
    void weightsInPlaceGenerateTheCopiedModelsText(@TempDir Path tmp) throws Exception {
        String[] args = {"generate", "--model", charModel(tmp, 64).toString(), "-p",
                "to be or not to be, that is the question", "-n", "20", "--temp", "0"};
        sameOutputWithAndWithout("jgpt.mapweights", args);
    }

    /** A character-level GPT-2 model directory with its tokenizer. */
    private static Path charModel(Path tmp, int context) throws Exception {
        CharTokenizer chars = CharTokenizer.fromText(GenerateCommandTest.TEXT);
        Path model = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(chars.vocabSize(), context, 2, 2, 16), 7), model);
        chars.save(model.resolve("tokenizer.json"));
        return model;
    }

    /** The command prints the same text as it does with the system property {@code off} set to false. */
    private static void sameOutputWithAndWithout(String off, String[] args) {
        CliRun with = CliRun.run(args);
        System.setProperty(off, "false");
        CliRun without;
        try {
            without = CliRun.run(args);
        } finally {
            System.clearProperty(off);
        }
        assertEquals(0, with.exit(), with.err());
        assertEquals(0, without.exit(), without.err());
        assertTrue(with.out().length() > "\n".length(), with.out());
        assertEquals(without.out(), with.out());
    }

    @Test
    void offWhenAskedTo() {
        System.setProperty("jgpt.warmup", "false");
        try {
            assertNull(KernelWarmUp.start());
        } finally {
            System.clearProperty("jgpt.warmup");
        }
    }

    /** The warm-up runs beside the loading on a model of its own: what generate prints does not depend on it. */
    @Test
    void generatedTextDoesNotDependOnTheWarmUp(@TempDir Path tmp) throws Exception {
        String[] args = {"generate", "--model", charModel(tmp, 32).toString(), "-p", "to be", "-n", "16", "--temp", "1",
                "--top-k", "0", "--top-p", "1", "--seed", "11"};
        sameOutputWithAndWithout("jgpt.warmup", args);
    }
}
