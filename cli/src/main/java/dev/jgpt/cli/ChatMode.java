package dev.jgpt.cli;

import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.ChatSession;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.JinjaChatTemplate;
import dev.jgpt.infer.StopReason;
import dev.jgpt.tokenizer.TokenizerConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code jgpt generate --chat}: each prompt is a user message, rendered with the model's chat
 * template (a directory's tokenizer_config.json, a GGUF file's {@code tokenizer.chat_template})
 * together with the conversation so far (whose tokens stay in the KV cache), and the reply ends at
 * the model's end-of-turn token.
 */
final class ChatMode {
    private final JinjaChatTemplate template;
    private final String system;

    private ChatMode(JinjaChatTemplate template, String system) {
        this.template = template;
        this.system = system;
    }

    /**
     * The chat mode of a model directory or GGUF file, checked before the model loads.
     *
     * @throws IllegalArgumentException naming the file, if the model has no chat template or it cannot be rendered
     */
    static ChatMode of(Path model, String system) throws IOException {
        TokenizerConfig config = ModelFiles.tokenizerConfig(model);
        JinjaChatTemplate template = JinjaChatTemplate.of(config).orElseThrow(() -> new IllegalArgumentException(
                "--chat needs the model's chat template, and " + whereTheTemplateIsMissing(model)
                        + ": the model was not made for chat; generate without --chat"));
        return new ChatMode(template, system);
    }

    private static String whereTheTemplateIsMissing(Path model) {
        if (ModelFiles.isGguf(model)) {
            return model + " has no " + ModelFiles.CHAT_TEMPLATE;
        }
        Path config = model.resolve(TokenizerConfig.FILE_NAME);
        return Files.isRegularFile(config) ? config + " has no chat_template"
                : model + " has no " + TokenizerConfig.FILE_NAME + " (nor " + TokenizerConfig.TEMPLATE_FILE_NAME + ")";
    }

    /**
     * One turn ({@code firstPrompt}, else all of stdin), or with {@code interactive} a REPL: each
     * line is a message, {@code /reset} starts the conversation over, {@code /quit} or the end of
     * input ends it.
     */
    int run(Generator generator, String firstPrompt, boolean interactive, GenerationOptions options) throws IOException {
        ChatSession chat = new ChatSession(generator, template);
        start(chat);
        return Repl.run(new Repl.Session() {
            @Override
            public void turn(String message, PrintStream out, PrintStream info) {
                ChatMode.turn(chat, message, options, out, info);
            }

            @Override
            public String input(String line) {
                return line.isBlank() ? null : line;
            }

            @Override
            public String reset() {
                chat.reset();
                start(chat);
                return "jgpt generate: conversation cleared" + (system != null ? " (the system message stays)" : "");
            }

            @Override
            public String recovery() {
                return "; type /reset to start over";
            }
        }, firstPrompt, interactive, "message");
    }

    private void start(ChatSession chat) {
        if (system != null) {
            chat.add(new ChatMessage(ChatMessage.Role.SYSTEM, system));
        }
    }

    /** Streams the reply to {@code message} to {@code out}, then a summary line to {@code info}. */
    private static void turn(ChatSession chat, String message, GenerationOptions options, PrintStream out, PrintStream info) {
        GenerationResult r = chat.send(message, options, t -> {
            if (!t.text().isEmpty()) {
                out.print(t.text());
                out.flush();
            }
        });
        out.println();
        out.flush();
        var s = r.stats();
        info.printf(Locale.ROOT, "jgpt generate: prompt %d tok new, %d from the cache (%.1f tok/s) | generated %d tok "
                        + "(%.1f tok/s) | stop: %s | seed %d%n", s.promptTokens(), chat.reusedTokens(),
                s.prefillTokensPerSecond(), s.generatedTokens(), s.decodeTokensPerSecond(),
                r.reason() == StopReason.END_OF_TEXT ? "end-of-turn" : r.reason().label(), options.seed());
        if (r.reason() == StopReason.CONTEXT_FULL) {
            info.println("jgpt generate: stopped: the model's context is full (/reset to start over)");
        }
        info.flush();
    }
}
