package dev.jgpt.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.tokenizer.TokenizerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real models' chat templates (test resources {@code chat-templates/}: Llama 3.2 Instruct, Qwen2.5
 * Instruct, SmolLM2 Instruct, TinyLlama Chat, Mistral Instruct) rendered by jgpt, against strings
 * written out here and against what Python's Jinja2, set up as {@code transformers} sets it up,
 * renders ({@code jinja2-renderings.json}, made by {@code src/test/python/chat_template_reference.py}).
 */
class JinjaChatTemplateTest {
    /** The clock the reference script uses: Llama 3.2 prints "Today Date: 26 Jul 2024". */
    static final Clock CLOCK = Clock.fixed(Instant.parse("2024-07-26T12:00:00Z"), ZoneOffset.UTC);

    static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage(ChatMessage.Role.SYSTEM, "You are a terse assistant."),
            new ChatMessage(ChatMessage.Role.USER, "What is 2+2?"),
            new ChatMessage(ChatMessage.Role.ASSISTANT, "4."),
            new ChatMessage(ChatMessage.Role.USER, "And 3+3?"));

    static Path templates() {
        try {
            return Path.of(JinjaChatTemplateTest.class.getResource("/chat-templates").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JinjaChatTemplate template(String model) throws IOException {
        TokenizerConfig config = TokenizerConfig.load(templates().resolve(model));
        return new JinjaChatTemplate(config.chatTemplate().orElseThrow(), config.specialTokens(), config.source(), CLOCK);
    }

    @Test
    void llama32RendersTheSystemBlockWithTodaysDateAndHeaderedTurns() throws IOException {
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                        + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                        + "You are a terse assistant.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n4.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                template("llama-3.2-instruct").render(CONVERSATION));
    }

    @Test
    void qwen25RendersChatMlAndItsOwnSystemMessageWhenThereIsNone() throws IOException {
        JinjaChatTemplate qwen = template("qwen2.5-instruct");
        assertEquals("<|im_start|>system\nYou are a terse assistant.<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n4.<|im_end|>\n"
                        + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                qwen.render(CONVERSATION));
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                qwen.render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hi"))));
    }

    @Test
    void smolLm2RendersChatMl() throws IOException {
        assertEquals("<|im_start|>system\nYou are a terse assistant.<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n4.<|im_end|>\n"
                        + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                template("smollm2-instruct").render(CONVERSATION));
    }

    @Test
    void tinyLlamaRendersZephyrTurnsEndedByEos() throws IOException {
        // the line breaks after {{ ... }} stay and those after {% ... %} go: trim_blocks, as in transformers
        assertEquals("<|system|>\nYou are a terse assistant.</s>\n"
                        + "<|user|>\nWhat is 2+2?</s>\n"
                        + "<|assistant|>\n4.</s>\n"
                        + "<|user|>\nAnd 3+3?</s>\n"
                        + "<|assistant|>\n",
                template("tinyllama-chat").render(CONVERSATION));
    }

    @Test
    void mistralPutsTheSystemPromptIntoTheLastUserTurnAndRefusesRolesOutOfOrder() throws IOException {
        JinjaChatTemplate mistral = template("mistral-instruct");
        assertEquals("<s>[INST] What is 2+2?[/INST] 4.</s>[INST] You are a terse assistant.\n\nAnd 3+3?[/INST]",
                mistral.render(CONVERSATION));
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> mistral.render(List.of(
                new ChatMessage(ChatMessage.Role.USER, "a"), new ChatMessage(ChatMessage.Role.USER, "b"))));
        assertEquals(templates().resolve("mistral-instruct").resolve("tokenizer_config.json")
                        + ": the chat template rejects the conversation: After the optional system message, "
                        + "conversation roles must alternate user/assistant/user/assistant/...",
                e.getMessage());
    }

    @Test
    void theEndOfTurnMarkerIsWhatFollowsAnAssistantMessage() throws IOException {
        assertEquals(List.of("<|eot_id|>"), template("llama-3.2-instruct").stopStrings());
        assertEquals(List.of("<|im_end|>"), template("qwen2.5-instruct").stopStrings());
        assertEquals(List.of("<|im_end|>"), template("smollm2-instruct").stopStrings());
        assertEquals(List.of("</s>"), template("tinyllama-chat").stopStrings());
        assertEquals(List.of("</s>"), template("mistral-instruct").stopStrings());
        JinjaChatTemplate bare = new JinjaChatTemplate("{% for m in messages %}{{ m.content }}\n{% endfor %}",
                Map.of(), Path.of("t.jinja"), CLOCK);
        assertTrue(bare.stopStrings().isEmpty(), "a template that writes only whitespace after a reply has no marker");
    }

    /**
     * Every template × conversation of the reference file (tool definitions and tool-branch
     * templates, no system message, padded and non-ASCII contents, a raised exception, and a
     * template of Python-isms: string methods, namespace, loop controls, tojson with indent, ...)
     * renders to exactly what Jinja2 rendered, or fails with the same message.
     */
    @Test
    void everyTemplateRendersWhatJinja2Renders() throws IOException {
        JsonNode reference = new ObjectMapper().readTree(templates().resolve("jinja2-renderings.json").toFile());
        JsonNode cases = reference.get("cases");
        int compared = 0;
        for (Iterator<Map.Entry<String, JsonNode>> models = reference.get("renderings").fields(); models.hasNext(); ) {
            Map.Entry<String, JsonNode> model = models.next();
            JinjaChatTemplate template = template(model.getKey());
            for (Iterator<Map.Entry<String, JsonNode>> it = model.getValue().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                @SuppressWarnings("unchecked")
                Map<String, Object> variables = new ObjectMapper().convertValue(cases.get(c.getKey()), Map.class);
                String what = model.getKey() + ", " + c.getKey();
                if (c.getValue().has("text")) {
                    assertEquals(c.getValue().get("text").asText(), template.renderVariables(variables), what);
                } else {
                    ChatTemplateException e = assertThrows(ChatTemplateException.class,
                            () -> template.renderVariables(variables), what);
                    assertTrue(e.getMessage().endsWith(": " + c.getValue().get("error").asText()), what + ": " + e.getMessage());
                }
                compared++;
            }
        }
        assertEquals(6 * 6, compared, "templates × conversations in the reference file");
    }

    @Test
    void aTemplateThatCannotRenderIsOneErrorNamingTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}\\n{{ m.content | no_such_filter }}{% endfor %}\"}");
        ChatTemplate.UnsupportedChatTemplateException e = assertThrows(ChatTemplate.UnsupportedChatTemplateException.class,
                () -> ChatTemplate.forModel(dir));
        assertEquals(dir.resolve("tokenizer_config.json") + ": the chat template cannot be rendered: no filter named "
                + "'no_such_filter'", e.getMessage());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\\n{% if messages %}unclosed\"}");
        e = assertThrows(ChatTemplate.UnsupportedChatTemplateException.class, () -> ChatTemplate.forModel(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer_config.json") + ": the chat template cannot be rendered: "
                + "line 2: Syntax error in '{% if messages %}': Missing end tag: endif"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aModelsOwnTemplateIsFoundBesideItsTokenizer(@TempDir Path dir) throws IOException {
        Files.copy(templates().resolve("qwen2.5-instruct/tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        ChatTemplate t = ChatTemplate.forModel(dir);
        JinjaChatTemplate jinja = assertInstanceOf(JinjaChatTemplate.class, t);
        assertEquals("tokenizer_config.json", t.name());
        assertTrue(jinja.render(CONVERSATION).endsWith("<|im_start|>assistant\n"));
    }

    @Test
    void strftimeNowReadsTheClockInItsZone() {
        Clock evening = Clock.fixed(Instant.parse("2024-07-26T23:30:00Z"), ZoneOffset.ofHours(2));
        JinjaChatTemplate t = new JinjaChatTemplate("{{ strftime_now('%Y-%m-%d %H:%M %a %B') }}{{ messages|length }}",
                Map.of(), Path.of("t.jinja"), evening);
        assertEquals("2024-07-27 01:30 Sat July1", t.render(List.of(new ChatMessage(ChatMessage.Role.USER, "x"))));
    }

    @Test
    void pythonStringMethodsHavePythonsSemantics() {
        JinjaChatTemplate t = new JinjaChatTemplate("{{ messages[0].content.split('.')|tojson }} "
                + "{{ 'a|b'.split('|') }} {{ 'x--y'.strip('-x') }} {{ 'aXbXc'.replace('X', '', 1) }} "
                + "{{ '  a  b '.split(none, 1)|tojson }} {{ 'é'|tojson }} {{ [1.0, 2.5, none, true]|tojson }}",
                Map.of(), Path.of("t.jinja"), CLOCK);
        List<ChatMessage> m = new ArrayList<>(List.of(new ChatMessage(ChatMessage.Role.USER, "1.2..3.")));
        assertEquals("[\"1\", \"2\", \"\", \"3\", \"\"] ['a', 'b'] y abXc [\"a\", \"b \"] \"é\" [1.0, 2.5, null, true]",
                t.render(m));
    }
}
