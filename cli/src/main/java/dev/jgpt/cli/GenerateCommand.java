package dev.jgpt.cli;

import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.StopReason;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.jgpt.tokenizer.Utf8File;
import picocli.CommandLine.Mixin;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Generates text from a model directory (config.json, model.safetensors, tokenizer.json: a jgpt "
                        + "run or a Hugging Face GPT-2 directory), streaming tokens to stdout as they are produced. "
                        + "A summary (prompt and generated tokens, tok/s, why it stopped) goes to stderr.",
                "The prompt comes from -p, --prompt-file, or else stdin. With --interactive, each line read from "
                        + "stdin is appended to the session (the KV cache is kept between turns) and answered; "
                        + "the line /reset clears the session and /quit (or the end of input) exits.",
                "When the model's context is full, generation stops with a message, or with --slide keeps "
                        + "the last half of the context, re-reads it and continues.",
                "With --chat, the prompt (each line with --interactive) is a user message, rendered with the "
                        + "model's chat template (tokenizer_config.json, or a GGUF file's tokenizer.chat_template) with the "
                        + "conversation so far, and the reply ends at the model's end-of-turn token. Sampling defaults "
                        + "and end-of-text ids come from the model's generation_config.json (a GGUF file's eos/eot ids) "
                        + "where it has one; the flags given override them."
        })
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Model directory (config.json, model.safetensors, tokenizer.json), or a GGUF file "
                    + "(llama.cpp's gpt2, llama or qwen2; quantized weights stay quantized).")
    Path model;

    @Option(names = {"-p", "--prompt"}, description = "The prompt text.")
    String prompt;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "Read the prompt from a UTF-8 file.")
    Path promptFile;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256",
            description = "Most tokens to generate (per turn with --interactive); -1 = until the context is full "
                    + "(with --slide: without end). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    // sampling: null = not given, so the model's generation_config.json (else jgpt's default) applies
    @Option(names = "--temp", description = "Temperature; 0 = greedy. Default: the model's generation_config.json, else 0.8.")
    Float temperature;

    @Option(names = "--top-k", description = "Keep the k most likely tokens; 0 = off. Default: the model's, else 40.")
    Integer topK;

    @Option(names = "--top-p",
            description = "Keep the smallest set of tokens with probability mass >= p, in (0, 1]; 1 = off. Default: the model's, else 0.95.")
    Float topP;

    @Option(names = "--repeat-penalty",
            description = "Penalty for tokens among the last --repeat-last-n; 1 = off. Default: the model's, else 1 (off).")
    Float repeatPenalty;

    @Option(names = "--repeat-last-n",
            description = "How many recent tokens the repeat penalty looks at; -1 = the whole context. Default: 64 "
                    + "(-1 with the model's repetition_penalty).")
    Integer repeatLastN;

    @Option(names = "--seed", description = "Random seed (default: a random one, printed in the summary).")
    Long seed;

    @Option(names = "--stop", paramLabel = "STRING",
            description = "Stop when the text contains STRING (not printed); repeatable. Escapes \\n and \\t are understood.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Do not stop at the end-of-text token.")
    boolean ignoreEos;

    @Option(names = "--slide", description = "When the context is full, keep its last half and continue (default: stop).")
    boolean slide;

    @Option(names = {"-i", "--interactive"}, description = "REPL: read turns from stdin, keeping the KV cache between them.")
    boolean interactive;

    @Option(names = "--chat", description = "Chat through the model's chat template (tokenizer_config.json, or a GGUF file's "
            + "tokenizer.chat_template): "
            + "the prompt is a user message, the reply ends at the end of the model's turn.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: the system message that starts the conversation.")
    String system;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N",
            description = "Context length of the session (default: the model's, at most 4096).")
    Integer ctx;

    @Mixin
    WeightsOption weights;

    @Mixin
    ThreadsOption threads;

    /** No turn has run yet in this process (its prefill includes compiling the kernels). */
    private boolean firstTurn = true;

    @Override
    public Integer call() throws Exception {
        StartupTrace.mark("command");
        if (prompt != null && promptFile != null) {
            throw new IllegalArgumentException("give the prompt with --prompt or --prompt-file, not both");
        }
        if (maxTokens < -1) {
            throw new IllegalArgumentException("--max-tokens must be >= 0, or -1 for no limit; got " + maxTokens);
        }
        long usedSeed = seed != null ? seed : new java.util.SplittableRandom().nextLong() >>> 1;
        if (system != null && !chat) {
            throw new IllegalArgumentException("--system needs --chat");
        }
        if (chat && slide) {
            throw new IllegalArgumentException("--slide does not go with --chat: each turn re-reads the conversation whole");
        }
        // every option is checked before the (possibly slow) model load
        ChatMode chatMode = chat ? ChatMode.of(model, system) : null;
        GenerationOptions.Builder sampling = ModelFiles.generationConfig(model).applyTo(GenerationOptions.builder());
        Optional.ofNullable(temperature).ifPresent(sampling::temperature);
        Optional.ofNullable(topK).ifPresent(sampling::topK);
        Optional.ofNullable(topP).ifPresent(sampling::topP);
        Optional.ofNullable(repeatPenalty).ifPresent(sampling::repeatPenalty);
        Optional.ofNullable(repeatLastN).ifPresent(sampling::repeatLastN);
        GenerationOptions options = sampling
                .maxTokens(maxTokens < 0 ? Integer.MAX_VALUE : maxTokens)
                .seed(usedSeed)
                .stop(stop.stream().map(GenerateCommand::unescape).toList())
                .stopAtEndOfText(!ignoreEos)
                .overflow(slide ? GenerationOptions.Overflow.SLIDE : GenerationOptions.Overflow.STOP)
                .build();
        Parallel.setThreads(threads.resolve());
        String firstPrompt = null;
        if (promptFile != null) {
            if (!Files.isRegularFile(promptFile)) {
                throw new IllegalArgumentException(promptFile + ": no such prompt file");
            }
            firstPrompt = Utf8File.readString(promptFile);
        } else if (prompt != null) {
            firstPrompt = prompt;
        }

        // The kernels compile on a tiny model while the real one loads (f32 weights, or a directory's used in place
        // from its mapped files: what the tiny model runs).
        boolean inPlace = ModelFiles.mapsWeights(model, weights.type());
        try (KernelWarmUp warmUp = inPlace ? KernelWarmUp.start(model)
                : ModelFiles.hasF32Weights(model, weights.type()) ? KernelWarmUp.start() : null;
             ModelFiles files = ModelFiles.load(model, weights.type(), inPlace); Tokenizer tokenizer = files.tokenizer()) {
            StartupTrace.mark("model and tokenizer");
            if (warmUp != null) {
                warmUp.finish();   // loaded: the warm-up ends (its products compiled), then the real forward runs
            }
            files.awaitPages();
            GPT gpt = files.gpt();
            int context = ctx != null ? ctx : Math.min(gpt.config.blockSize(), InferenceSession.DEFAULT_CONTEXT);
            if (context < 1 || context > gpt.config.blockSize()) {
                throw new IllegalArgumentException("--ctx must be in 1.." + gpt.config.blockSize()
                        + " (the model's context), got " + context);
            }
            Generator generator = new Generator(gpt, tokenizer, context);
            if (chatMode != null) {
                return chatMode.run(generator, firstPrompt, interactive, options);
            }
            return Repl.run(new Repl.Session() {
                @Override
                public void turn(String text, PrintStream out, PrintStream info) {
                    GenerateCommand.this.turn(generator, text, options, out, info);
                }

                @Override
                public String input(String line) {
                    return line + "\n";
                }

                @Override
                public String reset() {
                    generator.reset();
                    return "jgpt generate: session cleared";
                }

                @Override
                public String recovery() {
                    return slide ? "" : "; type /reset to start over";
                }
            }, firstPrompt, interactive, "prompt");
        }
    }

    /** Generates one continuation, streaming it to {@code out}, then prints the summary on {@code info}. */
    private void turn(Generator generator, String text, GenerationOptions options, PrintStream out, PrintStream info) {
        StartupTrace.mark("prompt");
        GenerationResult r = generator.generate(text, options, t -> {
            if (!t.text().isEmpty()) {
                out.print(t.text());
                out.flush();
            }
        });
        StartupTrace.mark("generated");
        StartupTrace.threads();
        out.println();   // end the last line; the generated text itself is exactly what was streamed
        out.flush();
        var s = r.stats();
        // The process's first prompt pass also compiles the kernels (JIT): its rate says so rather than
        // passing for the model's prefill speed.
        info.printf(Locale.ROOT, "jgpt generate: prompt %d tok (%.1f tok/s%s) | generated %d tok (%.1f tok/s) | stop: %s | seed %d%n",
                s.promptTokens(), s.prefillTokensPerSecond(), firstTurn ? ", incl. JIT warm-up" : "",
                s.generatedTokens(), s.decodeTokensPerSecond(), r.reason().label(), options.seed());
        firstTurn = false;
        if (r.reason() == StopReason.CONTEXT_FULL) {
            info.println("jgpt generate: stopped: the model's context of " + generator.contextLength()
                    + " tokens is full (use --slide to keep going" + (interactive ? ", or /reset" : "") + ")");
        }
        info.flush();
    }

    /** Shell-friendly escapes for stop strings: {@code \n}, {@code \t}, {@code \\}. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case '\\' -> sb.append('\\');
                    default -> sb.append(c).append(n);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
