package dev.jgpt.infer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.tokenizer.BpeTrainer;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-turn chat on a tiny random GPT with a small byte-level BPE that has ChatML's special
 * tokens ({@code <|im_start|>}, {@code <|im_end|>}) as single tokens, and real chat templates.
 */
class ChatSessionTest {
    static final String CORPUS = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello there, how are you today?<|im_end|>\n"
            + "<|im_start|>assistant\nI am well, thank you. What is on your mind?<|im_end|>\n"
            + "[INST] Tell me a story about the sea. [/INST] Once upon a time a ship sailed.</s>";
    static final GenerationOptions GREEDY = GenerationOptions.greedy(10);

    @TempDir
    static Path dir;
    static Tokenizer tokenizer;
    static int imEnd;

    /** BPE of 300 tokens trained on {@link #CORPUS}, then {@code <|im_start|>} and {@code <|im_end|>} added. */
    @BeforeAll
    static void tokenizer() throws IOException {
        BpeTrainer.Result bpe = BpeTrainer.train(CORPUS, 300);
        ObjectNode json = bpe.toJson();
        ArrayNode added = (ArrayNode) json.get("added_tokens");
        int id = bpe.vocabSize();
        for (String special : List.of("<|im_start|>", "<|im_end|>")) {
            ObjectNode t = added.addObject();
            t.put("id", id++);
            t.put("content", special);
            t.put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        Files.writeString(dir.resolve("tokenizer.json"), json.toString());
        tokenizer = Tokenizers.load(dir.resolve("tokenizer.json"));
        imEnd = id - 1;
        assertArrayEquals(new int[] {imEnd}, tokenizer.encode("<|im_end|>"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    static GPT model(long seed) {
        return new GPT(GPTConfig.of(tokenizer.vocabSize(), 512, 2, 2, 16).withInit(InitScheme.XAVIER), seed);
    }

    /** What a fresh generator replies to the whole rendered conversation (the reference a session must equal). */
    static GenerationResult fresh(GPT model, ChatTemplate template, List<ChatMessage> messages, GenerationOptions options) {
        Generator g = new Generator(model, tokenizer);
        return g.generate(tokenizer.encode(template.render(messages)), options, TokenListener.NONE);
    }

    @Test
    void eachTurnPrefillsOnlyWhatIsNewAndRepliesAsAFreshPrefillWould() throws IOException {
        ChatTemplate chatMl = JinjaChatTemplateTest.template("smollm2-instruct");
        GPT model = model(1), reference = model(1);
        ChatSession chat = new ChatSession(new Generator(model, tokenizer), chatMl);
        assertEquals(List.of(imEnd), chat.endOfTurnTokens());
        chat.add(new ChatMessage(ChatMessage.Role.SYSTEM, "Be brief."));
        int previousPrompt = 0;
        for (String user : List.of("Hello there.", "How are you today?", "Tell me a story.")) {
            List<ChatMessage> before = new ArrayList<>(chat.messages());
            before.add(new ChatMessage(ChatMessage.Role.USER, user));
            GenerationOptions options = GREEDY.toBuilder().addStopTokens(List.of(imEnd)).build();
            GenerationResult expected = fresh(reference, chatMl, before, options);

            StringBuilder streamed = new StringBuilder();
            GenerationResult r = chat.send(user, GREEDY, t -> streamed.append(t.text()));
            assertArrayEquals(expected.tokens(), r.tokens(), user);
            assertEquals(expected.text(), r.text());
            assertEquals(r.text(), streamed.toString());
            assertEquals(new ChatMessage(ChatMessage.Role.ASSISTANT, r.text()), chat.messages().getLast());

            int prompt = tokenizer.encode(chatMl.render(before)).length;
            assertEquals(prompt - chat.reusedTokens(), r.stats().promptTokens(), "only the tokens not in the cache ran");
            if (previousPrompt > 0) {
                // all of the last prompt is reused; at most its final "\n" re-encodes together with the reply
                assertTrue(chat.reusedTokens() >= previousPrompt - 1,
                        user + ": reused " + chat.reusedTokens() + " of the previous prompt's " + previousPrompt);
            }
            previousPrompt = prompt;
        }
        assertEquals(1 + 3 * 2, chat.messages().size());
    }

    @Test
    void aTemplateThatRewritesEarlierTextIsReprefilledFromWhereItDiffers() throws IOException {
        // Mistral's template moves the system prompt into the last user turn, so turn 2 changes turn 1's text
        ChatTemplate mistral = JinjaChatTemplateTest.template("mistral-instruct");
        GPT model = model(2), reference = model(2);
        ChatSession chat = new ChatSession(new Generator(model, tokenizer), mistral);
        chat.add(new ChatMessage(ChatMessage.Role.SYSTEM, "Tell stories."));
        chat.send("Hello there.", GREEDY, TokenListener.NONE);
        int firstPrompt = tokenizer.encode(mistral.render(List.of(chat.messages().get(0), chat.messages().get(1)))).length;

        List<ChatMessage> before = new ArrayList<>(chat.messages());
        before.add(new ChatMessage(ChatMessage.Role.USER, "And then?"));
        GenerationResult expected = fresh(reference, mistral, before, GREEDY);
        GenerationResult r = chat.send("And then?", GREEDY, TokenListener.NONE);
        assertArrayEquals(expected.tokens(), r.tokens());
        assertTrue(chat.reusedTokens() > 0 && chat.reusedTokens() < firstPrompt - 1,
                "reused " + chat.reusedTokens() + " tokens: the common start, not the first prompt's " + firstPrompt);
    }

    @Test
    void theReplyEndsAtTheEndOfTurnTokenWhichIsNotPrinted() throws IOException {
        GPT model = model(3);
        sayOnly(model, imEnd);
        ChatSession chat = new ChatSession(new Generator(model, tokenizer), JinjaChatTemplateTest.template("qwen2.5-instruct"));
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = chat.send("Hi", GREEDY, t -> streamed.append(t.text()));
        assertEquals(StopReason.END_OF_TEXT, r.reason());
        assertArrayEquals(new int[] {imEnd}, r.tokens());
        assertEquals("", r.text());
        assertEquals("", streamed.toString());

        chat.reset();
        GenerationResult ignored = chat.send("Hi", GREEDY.toBuilder().maxTokens(3).stopAtEndOfText(false).build(),
                TokenListener.NONE);
        assertEquals(StopReason.MAX_TOKENS, ignored.reason());
        assertEquals("<|im_end|>".repeat(3), ignored.text());
    }

    /** Makes the model predict {@code id} after any input: the final norm outputs a constant pointing at its embedding. */
    static void sayOnly(GPT model, int id) {
        Param wte = model.param("transformer.wte.weight");
        Param gain = model.param("transformer.ln_f.weight");
        Param shift = model.param("transformer.ln_f.bias");
        int C = gain.data.length;
        Arrays.fill(gain.data, 0f);
        for (int c = 0; c < C; c++) {
            wte.data[id * C + c] *= 10f;
            shift.data[c] = wte.data[id * C + c];
        }
    }

    @Test
    void resetForgetsTheConversationAndTheCache() throws IOException {
        Generator g = new Generator(model(4), tokenizer);
        ChatSession chat = new ChatSession(g, JinjaChatTemplateTest.template("tinyllama-chat"));
        chat.send("Hello there.", GREEDY, TokenListener.NONE);
        assertTrue(g.position() > 0);
        chat.reset();
        assertEquals(List.of(), chat.messages());
        assertEquals(0, g.position());
        assertEquals(0, chat.reusedTokens());
    }

    @Test
    void aConversationLongerThanTheContextIsOneClearError() throws IOException {
        GPT small = new GPT(GPTConfig.of(tokenizer.vocabSize(), 24, 1, 2, 16), 5);
        ChatSession chat = new ChatSession(new Generator(small, tokenizer), JinjaChatTemplateTest.template("smollm2-instruct"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> chat.send("Tell me a story about the sea, please.", GREEDY, TokenListener.NONE));
        assertTrue(e.getMessage().matches("the conversation is \\d+ tokens, more than the model's context of 24 tokens"),
                e.getMessage());
        assertEquals(List.of(), chat.messages(), "a failed turn leaves the conversation as it was");
    }

    @Test
    void anEndOfTurnMarkerTheTokenizerSplitsIsAStopString() {
        GenerationOptions twenty = GenerationOptions.greedy(20);
        List<ChatMessage> hi = List.of(new ChatMessage(ChatMessage.Role.USER, "Hi"));
        String free = new Generator(model(6), tokenizer).generate(tokenizer.encode(markedTemplate("<END>").render(hi)),
                twenty, TokenListener.NONE).text();
        // a marker the model happens to write: the end of its turn, for a template that says so
        int at = 2;
        while (!free.substring(at, at + 3).chars().noneMatch(Character::isWhitespace)) {
            at++;
        }
        String marker = free.substring(at, at + 3);
        JinjaChatTemplate template = markedTemplate(marker);
        assertEquals(List.of(marker), template.stopStrings());
        ChatSession chat = new ChatSession(new Generator(model(6), tokenizer), template);
        assertEquals(List.of(), chat.endOfTurnTokens(), "the marker " + marker + " is no single token");
        GenerationResult r = chat.send("Hi", twenty, TokenListener.NONE);
        assertEquals(StopReason.STOP_STRING, r.reason());
        assertEquals(free.substring(0, free.indexOf(marker)), r.text());
    }

    /** A template that writes {@code marker} after assistant messages only (the prompt of one user message lacks it). */
    static JinjaChatTemplate markedTemplate(String marker) {
        return new JinjaChatTemplate("{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content }}" + marker
                + "\n{% else %}{{ m.role }}: {{ m.content }}\n{% endif %}{% endfor %}assistant: ",
                Map.of(), Path.of("t.jinja"), JinjaChatTemplateTest.CLOCK);
    }
}
