package dev.jgpt.cli;

import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.ChatSession;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.JinjaChatTemplate;
import dev.jgpt.infer.TokenListener;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.model.io.gguf.GgufFile;
import dev.jgpt.model.io.gguf.GgufValue;
import dev.jgpt.model.io.gguf.GgufWriter;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.TokenizerConfig;
import dev.jgpt.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jgpt generate --chat} and {@code generation_config.json} defaults, against the Java API on the same model. */
class ChatCommandTest {
    static final CharTokenizer CHARS = CharTokenizer.fromText(
            "\n !<>|_.,?:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    /** ChatML, as Qwen2.5 and SmolLM2 write it. */
    static final String CHATML = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @TempDir
    static Path tmp;
    static Path chatModel;

    @BeforeAll
    static void saveModels() throws IOException {
        chatModel = tmp.resolve("chat");
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), 512, 2, 2, 16).withInit(InitScheme.XAVIER), 9), chatModel);
        CHARS.save(chatModel.resolve("tokenizer.json"));
        Files.writeString(chatModel.resolve(TokenizerConfig.FILE_NAME),
                "{\"chat_template\": \"" + CHATML.replace("\\", "\\\\").replace("\n", "\\n") + "\", \"eos_token\": \"<|im_end|>\"}");
    }

    static CliRun chat(String stdin, Path model, String... args) {
        List<String> all = new ArrayList<>(List.of("generate", "--model", model.toString()));
        all.addAll(List.of(args));
        return CliRun.runWithInput(stdin.getBytes(StandardCharsets.UTF_8), all.toArray(String[]::new));
    }

    /** The replies the Java API gives to these user messages, one after another (after an optional system message). */
    static List<String> apiReplies(String system, int maxTokens, String... users) throws IOException {
        JinjaChatTemplate template = JinjaChatTemplate.of(TokenizerConfig.load(chatModel)).orElseThrow();
        ChatSession session = new ChatSession(new Generator(ModelDir.load(chatModel), Tokenizers.load(chatModel)), template);
        if (system != null) {
            session.add(new ChatMessage(ChatMessage.Role.SYSTEM, system));
        }
        List<String> replies = new ArrayList<>();
        for (String user : users) {
            replies.add(session.send(user, GenerationOptions.greedy(maxTokens), TokenListener.NONE).text());
        }
        return replies;
    }

    @Test
    void oneTurnRepliesThroughTheModelsTemplate() throws IOException {
        CliRun r = chat("", chatModel, "--chat", "--system", "Be brief.", "-p", "Hello", "-n", "16", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        assertEquals(apiReplies("Be brief.", 16, "Hello").getFirst() + "\n", r.out());
        assertTrue(r.err().contains("generated 16 tok") && r.err().contains("0 from the cache"), r.err());
        assertEquals(r.out(), chat("Hello", chatModel, "--chat", "--system", "Be brief.", "-n", "16", "--temp", "0").out(),
                "the message from stdin");
    }

    @Test
    void theReplKeepsTheConversationAndResetStartsOver() throws IOException {
        List<String> replies = apiReplies(null, 12, "Hello", "What now?");
        CliRun r = chat("Hello\nWhat now?\n/reset\nHello\n/quit\n", chatModel, "--chat", "-i", "-n", "12", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        List<String> turns = r.out().lines().filter(l -> !l.contains("from the cache")).toList();
        // each reply follows the prompt "> " it answers, its summary on the next line
        assertEquals(List.of("> " + replies.get(0), "> " + replies.get(1), "> jgpt generate: conversation cleared",
                "> " + replies.get(0), "> "), turns, r.out());
        List<String> summaries = r.out().lines().filter(l -> l.contains("from the cache")).toList();
        assertEquals(3, summaries.size(), r.out());
        assertTrue(!summaries.get(1).contains(" 0 from the cache"), "the second turn reuses the first: " + summaries.get(1));
    }

    @Test
    void aMessageThatIsNotUtf8IsOneClearError() {
        byte[] latin1 = "Hell\u00f6".getBytes(StandardCharsets.ISO_8859_1);
        String[] args = {"generate", "--model", chatModel.toString(), "--chat", "-n", "4"};
        CliRun stdin = CliRun.runWithInput(latin1, args);
        assertTrue(stdin.failedWith("standard input is not valid UTF-8: invalid byte sequence 0xF6 at byte offset 4"), stdin.err());
        byte[] secondLine = ("Hello\n" + new String(latin1, StandardCharsets.ISO_8859_1) + "\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        List<String> repl = new ArrayList<>(List.of(args));
        repl.add("-i");
        CliRun r = CliRun.runWithInput(secondLine, repl.toArray(String[]::new));
        assertEquals(1, r.exit(), r.err());
        assertEquals("jgpt generate: error: standard input is not valid UTF-8 (line 2)", r.err().strip());
        assertTrue(r.out().contains("from the cache"), "the first line was answered: " + r.out());
    }

    /** A copy of the chat model's weights and tokenizer, without its tokenizer_config.json. */
    static Path withoutTemplate(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(chatModel.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    @Test
    void aGgufFileChatsThroughTheTemplateItCarries() throws IOException {
        Path gguf = tmp.resolve("chat.gguf");
        CliRun export = CliRun.run("export", "--model", chatModel.toString(), "--type", "f32", "--out", gguf.toString());
        assertEquals(0, export.exit(), export.err());
        try (GgufFile f = GgufFile.open(gguf)) {
            assertEquals(CHATML, f.require("tokenizer.chat_template").asString(), "export writes the template as llama.cpp's converter does");
        }
        String[] oneTurn = {"--chat", "--system", "Be brief.", "-p", "Hello", "-n", "16", "--temp", "0"};
        CliRun file = chat("", gguf, oneTurn);
        assertEquals(0, file.exit(), file.err());
        assertEquals(chat("", chatModel, oneTurn).out(), file.out(), "the file's template renders the prompt the directory's does");
        assertEquals(apiReplies("Be brief.", 16, "Hello").getFirst() + "\n", file.out());
        String repl = "Hello\nWhat now?\n/quit\n";
        CliRun dirTurns = chat(repl, chatModel, "--chat", "-i", "-n", "12", "--temp", "0", "--seed", "1");
        CliRun fileTurns = chat(repl, gguf, "--chat", "-i", "-n", "12", "--temp", "0", "--seed", "1");
        assertEquals(0, fileTurns.exit(), fileTurns.err());
        assertEquals(dirTurns.out().replaceAll("\\([^)]*tok/s\\)", ""), fileTurns.out().replaceAll("\\([^)]*tok/s\\)", ""),
                "a conversation, the second turn from the cache");

        Path plainGguf = tmp.resolve("plain.gguf");
        assertEquals(0, CliRun.run("export", "--model", withoutTemplate("plain-for-gguf").toString(), "--type", "f32",
                "--out", plainGguf.toString()).exit());
        CliRun none = chat("", plainGguf, "--chat", "-p", "Hi");
        assertTrue(none.failedWith(plainGguf + " has no tokenizer.chat_template"), none.err());
    }

    @Test
    void aGgufFilesTemplatesAndSpecialTokensReadAsATokenizerConfig() throws IOException {
        Map<String, GgufValue> chatKeys = Map.of(
                "tokenizer.chat_template", GgufValue.string("{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"),
                "tokenizer.chat_templates", GgufValue.strings("tool_use"),
                "tokenizer.chat_template.tool_use", GgufValue.string("{{ messages[0].content }}"));
        GgufWriter w = new GgufWriter()
                .put("tokenizer.ggml.tokens", GgufValue.strings("a", "<s>", "</s>", "b"))
                .put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1))
                .put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2))
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        chatKeys.forEach(w::put);
        Path file = tmp.resolve("keys.gguf");
        w.write(file);
        TokenizerConfig config = ModelFiles.tokenizerConfig(file);
        assertEquals(Map.of(TokenizerConfig.DEFAULT_TEMPLATE, chatKeys.get("tokenizer.chat_template").asString(),
                "tool_use", "{{ messages[0].content }}"), config.chatTemplates());
        assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>"), config.specialTokens());
        assertEquals(Optional.of(true), config.addBosToken());
        assertEquals(file, config.source());
        assertEquals(chatKeys, ModelFiles.chatTemplateMetadata(config), "what export writes is what was read");
        JinjaChatTemplate template = JinjaChatTemplate.of(config).orElseThrow();
        assertEquals("<s>Hi</s>", template.render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hi"))));
        assertEquals(List.of("</s>"), template.stopStrings());

        Path broken = tmp.resolve("broken.gguf");
        new GgufWriter().put("tokenizer.chat_templates", GgufValue.strings("rag")).write(broken);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.tokenizerConfig(broken));
        assertTrue(e.getMessage().startsWith(broken + ": ") && e.getMessage().contains("tokenizer.chat_template.rag"), e.getMessage());
    }

    @Test
    void aModelWithoutAChatTemplateIsOneErrorNamingTheFile() throws IOException {
        Path plain = tmp.resolve("plain");
        Files.createDirectories(plain);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(chatModel.resolve(f), plain.resolve(f));
        }
        CliRun none = chat("", plain, "--chat", "-p", "Hi");
        assertTrue(none.failedWith(plain + " has no tokenizer_config.json (nor chat_template.jinja)"), none.err());
        Files.writeString(plain.resolve(TokenizerConfig.FILE_NAME), "{\"eos_token\": \"</s>\"}");
        CliRun noTemplate = chat("", plain, "--chat", "-p", "Hi");
        assertTrue(noTemplate.failedWith(plain.resolve(TokenizerConfig.FILE_NAME) + " has no chat_template"), noTemplate.err());
        CliRun system = chat("", plain, "--system", "x", "-p", "Hi");
        assertTrue(system.failedWith("--system needs --chat"), system.err());
    }

    @Test
    void aTemplateThatRejectsTheConversationIsOneErrorNamingTheFile() throws IOException {
        Path strict = tmp.resolve("strict");
        Files.createDirectories(strict);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(chatModel.resolve(f), strict.resolve(f));
        }
        Files.writeString(strict.resolve(TokenizerConfig.FILE_NAME), "{\"chat_template\": \"{% if messages[0].role == 'system' %}"
                + "{{ raise_exception('System role not supported') }}{% endif %}{{ messages[0].content }}\"}");
        CliRun r = chat("", strict, "--chat", "--system", "Be brief.", "-p", "Hi");
        assertTrue(r.failedWith(strict.resolve(TokenizerConfig.FILE_NAME)
                + ": the chat template rejects the conversation: System role not supported"), r.err());
    }

    @Test
    void generationConfigGivesTheDefaultsAndFlagsOverrideThem() throws IOException {
        Path tuned = tmp.resolve("tuned");
        Files.createDirectories(tuned);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(chatModel.resolve(f), tuned.resolve(f));
        }
        GPT model = ModelDir.load(chatModel);
        int[] greedy = new Generator(model, CHARS).generate("to be", GenerationOptions.greedy(20), TokenListener.NONE).tokens();
        int eos = greedy[3];   // call the 4th greedy token the model's end of text: generation ends where it first comes
        int firstAt = 0;
        while (greedy[firstAt] != eos) {
            firstAt++;
        }
        Files.writeString(tuned.resolve("generation_config.json"), "{\"do_sample\": false, \"eos_token_id\": [" + eos + "]}");

        CliRun r = chat("", tuned, "-p", "to be", "-n", "20");
        assertEquals(0, r.exit(), r.err());
        assertEquals(CHARS.decode(java.util.Arrays.copyOf(greedy, firstAt)) + "\n", r.out(), "greedy, stopped at the eos id");
        assertTrue(r.err().contains("stop: end-of-text"), r.err());

        CliRun ignoring = chat("", tuned, "-p", "to be", "-n", "20", "--ignore-eos");
        assertEquals(CHARS.decode(greedy) + "\n", ignoring.out());

        GenerationOptions sampled = GenerationOptions.builder().temperature(1f).topK(0).topP(1f).seed(5).maxTokens(20)
                .stopTokens(List.of(eos)).build();
        GenerationResult expected = new Generator(model, CHARS).generate("to be", sampled, TokenListener.NONE);
        CliRun flags = chat("", tuned, "-p", "to be", "-n", "20", "--temp", "1", "--top-k", "0", "--top-p", "1", "--seed", "5");
        assertEquals(expected.text() + "\n", flags.out(), "the flags given win over do_sample: false");

        Files.writeString(tuned.resolve("generation_config.json"), "{\"top_p\": 2}");
        CliRun bad = chat("", tuned, "-p", "to be");
        assertTrue(bad.failedWith(tuned.resolve("generation_config.json") + ": top_p must be in (0, 1], got 2"), bad.err());
    }
}
