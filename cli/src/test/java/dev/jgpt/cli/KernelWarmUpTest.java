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

    @Test
    void theMappedWarmUpFinishesToo(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(19, 16, 1, 2, 8), 7), model);
        for (Path dir : new Path[] {model, tmp.resolve("no-such-model")}) {   // an unreadable config: GPT-2's kernels
            KernelWarmUp warmUp = KernelWarmUp.start(dir);
            assertNotNull(warmUp);
            warmUp.finish();
            assertFalse(warmUp.running(), "nothing of the warm-up runs once finish returns");
        }
    }

    /** Greedy text from the matrices in place (generate's default for a directory) is the copied model's. */
    @Test
    void weightsInPlaceGenerateTheCopiedModelsText(@TempDir Path tmp) throws Exception {
        CharTokenizer chars = CharTokenizer.fromText(GenerateCommandTest.TEXT);
        Path model = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(chars.vocabSize(), 64, 2, 2, 16), 7), model);
        chars.save(model.resolve("tokenizer.json"));
        String[] args = {"generate", "--model", model.toString(), "-p", "to be or not to be, that is the question", "-n", "20",
                "--temp", "0"};
        CliRun mapped = CliRun.run(args);
        System.setProperty("jgpt.mapweights", "false");
        CliRun copied;
        try {
            copied = CliRun.run(args);
        } finally {
            System.clearProperty("jgpt.mapweights");
        }
        assertEquals(0, mapped.exit(), mapped.err());
        assertEquals(0, copied.exit(), copied.err());
        assertTrue(mapped.out().length() > 10, mapped.out());
        assertEquals(copied.out(), mapped.out());
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
        CharTokenizer chars = CharTokenizer.fromText(GenerateCommandTest.TEXT);
        Path model = tmp.resolve("model");
        ModelDir.save(new GPT(GPTConfig.of(chars.vocabSize(), 32, 2, 2, 16), 7), model);
        chars.save(model.resolve("tokenizer.json"));
        String[] args = {"generate", "--model", model.toString(), "-p", "to be", "-n", "16", "--temp", "1",
                "--top-k", "0", "--top-p", "1", "--seed", "11"};
        CliRun with = CliRun.run(args);
        System.setProperty("jgpt.warmup", "false");
        CliRun without;
        try {
            without = CliRun.run(args);
        } finally {
            System.clearProperty("jgpt.warmup");
        }
        assertEquals(0, with.exit(), with.err());
        assertEquals(0, without.exit(), without.err());
        assertTrue(with.out().length() > "\n".length(), with.out());
        assertEquals(without.out(), with.out());
    }
}
