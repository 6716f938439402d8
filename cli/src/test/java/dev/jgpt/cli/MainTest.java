package dev.jgpt.cli;

import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    @TempDir
    Path tmp;

    @Test
    void everyHelpListsTheExitCodes() {
        for (String[] command : List.of(new String[] {"--help"}, new String[] {"train", "--help"},
                new String[] {"generate", "--help"}, new String[] {"eval", "--help"}, new String[] {"prepare", "--help"},
                new String[] {"stability", "--help"}, new String[] {"tokenizer", "encode", "--help"})) {
            CliRun r = CliRun.run(command);
            assertEquals(0, r.exit(), r.err());
            String help = r.out().replaceAll("\\s+", " ");
            assertTrue(help.contains("Exit codes: 0 done 1 bad input or a failure") && help.contains(" 2 usage: ")
                    && help.contains(" 3 training diverged") && help.contains(" 130 interrupted (Ctrl-C)"), r.out());
        }
        String threads = CliRun.run("train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(threads.contains("--threads=N Threads, 1.." + Runtime.getRuntime().availableProcessors()
                + " (the cores here; default: all of them)."), threads);
    }

    /**
     * A command line naming a subcommand builds that one alone (picocli's reflection over the others is time before
     * the first token); the usage, help and a mistyped name still see all of them.
     */
    @Test
    void onlyTheNamedSubcommandIsBuilt() {
        assertEquals(List.of("generate"), List.copyOf(Main.commandLine("generate", "--model", "m").getSubcommands().keySet()));
        assertEquals(List.of("tokenizer"), List.copyOf(Main.commandLine("tokenizer", "encode").getSubcommands().keySet()));
        List<String> all = List.of("help", "smoke", "stability", "lesion", "tokenizer", "prepare", "eval", "landscape",
                "generate", "export", "quantize", "serve", "train", "aot-training");
        for (String[] args : List.of(new String[0], new String[] {"help", "generate"}, new String[] {"--help"},
                new String[] {"genrate"})) {
            assertEquals(all, List.copyOf(Main.commandLine(args).getSubcommands().keySet()), String.join(" ", args));
        }
        String usage = CliRun.run().out();
        for (String name : all.subList(0, all.size() - 1)) {   // aot-training is hidden
            assertTrue(usage.contains("  " + name + " "), name + " missing from:\n" + usage);
        }
        assertTrue(!usage.contains("aot-training"), usage);
        CliRun help = CliRun.run("help", "generate");
        assertEquals(0, help.exit(), help.err());
        assertTrue(help.out().contains("Usage: jgpt generate"), help.out());
        CliRun typo = CliRun.run("genrate");
        assertEquals(Main.EXIT_USAGE, typo.exit());
        assertTrue(typo.err().contains("Unmatched argument at index 0: 'genrate'"), typo.err());
    }

    /**
     * Running out of heap (here: a model larger than a small heap, copied into it: generate would otherwise use its
     * matrices in place, outside the heap) is one line too, not a stack trace.
     */
    @Test
    void outOfMemoryIsOneLine() throws Exception {
        Path model = tmp.resolve("big");
        CharTokenizer tok = CharTokenizer.fromText("abc\n");
        ModelDir.save(new GPT(GPTConfig.of(tok.vocabSize(), 8, 2, 2, 512), 1), model);   // 6.3 M weights: 25 MB
        tok.save(model.resolve("tokenizer.json"));
        CliProcess p = CliProcess.start(tmp.resolve("process"), CliProcess.command(List.of("-Xmx24m", "-Xss1m", "-Djgpt.mapweights=false"),
                "generate", "--model", model.toString(), "-p", "abc", "-n", "2"));
        assertEquals(1, p.exitCode(Duration.ofMinutes(2)), p.out() + p.err());
        String err = p.err().strip();
        assertTrue(err.matches("jgpt generate: error: out of memory: the Java heap \\([0-9]+ MB\\) is full; choose a "
                + "smaller model, batch or context, or give Java more memory \\(bin/jgpt: JGPT_JAVA_OPTS=-Xmx16g\\)"), err);
    }
}
