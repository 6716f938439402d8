package dev.jgpt.cli;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.BpeTrainer;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * The training run of jgpt's AOT cache ({@code bin/aot-cache.sh}, run by the build): the JVM records which
 * classes the commands load and how their methods run, and a later {@code -XX:AOTCache} start finds those
 * classes loaded and linked and the profiles ready. It runs what users run first, on a model small enough to
 * take seconds: {@code generate} on a GPT-2-shaped model with a byte-level BPE tokenizer (the tokenizers library,
 * Jackson, the decode kernels; a short prompt and one long enough for the prompt matmul) and a few {@code train}
 * steps on a character model. Everything it writes is in a temporary folder, removed at the end.
 */
@Command(name = "aot-training", hidden = true,
        description = "The training run of the AOT cache (bin/aot-cache.sh): generates and trains on tiny models.")
final class AotTrainingCommand implements Callable<Integer> {

    @Override
    public Integer call() throws IOException {
        Path work = Files.createTempDirectory("jgpt-aot-training");
        PrintStream out = System.out, err = System.err;
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        try {
            String text = text();
            Path corpus = work.resolve("corpus.txt");
            Files.writeString(corpus, text);
            Path model = work.resolve("gpt2-tiny");
            BpeTrainer.Result bpe = BpeTrainer.train(text, 320);
            GPTConfig cfg = GPTConfig.of(bpe.vocabSize(), 128, 2, 2, 64);
            ModelDir.save(new GPT(cfg, 1), model);
            bpe.save(model.resolve("tokenizer.json"));
            String longPrompt = text.substring(0, 150);   // some 70 tokens: the prompt matmul (16+ rows)
            List<String[]> runs = List.of(
                    new String[] {"generate", "--model", model.toString(), "-p", "The quick brown fox", "-n", "24", "--seed", "1"},
                    new String[] {"generate", "--model", model.toString(), "-p", longPrompt, "-n", "8", "--seed", "2"},
                    new String[] {"train", "--data", corpus.toString(), "--layers", "2", "--heads", "2", "--embd", "64",
                            "--block", "32", "--batch", "4", "--iters", "20", "--eval-interval", "10", "--eval-iters", "2",
                            "--samples", "1", "--sample-tokens", "16", "--peak-gflops", "100",
                            "--out", work.resolve("train-run").toString()});
            System.setOut(quiet);
            System.setErr(new PrintStream(errors, true, StandardCharsets.UTF_8));
            // generate's row-major side file (as a real run's) in the temporary folder, not the user's cache
            System.setProperty(ModelFiles.WEIGHT_CACHE_PROPERTY, work.resolve("weight-cache").toString());
            for (String[] run : runs) {
                errors.reset();
                int status = Main.run(run);
                if (status != 0) {
                    err.print(errors.toString(StandardCharsets.UTF_8));
                    err.println("jgpt aot-training: 'jgpt " + String.join(" ", run) + "' exited with " + status);
                    return status;
                }
            }
            return 0;
        } finally {
            System.clearProperty(ModelFiles.WEIGHT_CACHE_PROPERTY);
            System.setOut(out);
            System.setErr(err);
            deleteTree(work);
        }
    }

    /** Some tens of kilobytes of varied English: enough words for a tokenizer and a few training batches. */
    static String text() {
        String[] subjects = {"The quick brown fox", "A patient teacher", "The old sailor", "My neighbour's cat",
                "A small robot", "The river"};
        String[] verbs = {"jumps over", "writes to", "sings about", "waits for", "remembers", "follows"};
        String[] objects = {"the lazy dog", "a distant island", "the morning train", "three green apples",
                "the quiet library", "an open window"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            sb.append(subjects[i % subjects.length]).append(' ').append(verbs[(i / 6) % verbs.length]).append(' ')
                    .append(objects[(i / 36 + i) % objects.length]).append(i % 7 == 0 ? ", and then it rests.\n" : ". ");
        }
        return sb.toString();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
