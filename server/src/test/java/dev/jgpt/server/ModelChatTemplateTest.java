package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.JinjaChatTemplate;
import dev.jgpt.infer.StopReason;
import dev.jgpt.infer.TokenListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat for a model with its own (Jinja) chat template: rendered with it, ended at its end-of-turn token. */
@Timeout(120)
class ModelChatTemplateTest {
    /** Turns end with {@code marker} (a single char token: the end-of-turn token); roles must alternate. */
    static JinjaChatTemplate template(String marker) {
        return new JinjaChatTemplate("{% for m in messages %}"
                + "{% if loop.index0 > 0 and m.role == messages[loop.index0 - 1].role %}"
                + "{{ raise_exception('Conversation roles must alternate') }}{% endif %}"
                + "{{ m.role|upper }}: {{ m.content }}" + marker + "\n{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}",
                Map.of(), Path.of("/models/tiny/tokenizer_config.json"), Clock.systemUTC());
    }

    @Test
    void chatRendersTheModelsTemplateAndStopsAtItsEndOfTurnToken() throws Exception {
        // an end-of-turn marker this random model writes in its reply (its template's prompt has it too)
        List<ChatMessage> hello = List.of(new ChatMessage(ChatMessage.Role.USER, "Hello?"));
        GenerationOptions greedy = GenerationOptions.builder().temperature(0f).maxTokens(40).build();
        String marker = null;
        for (char c : ".!?,:ZYXWVUTSRQPONMLKJIHGFEDCBA".toCharArray()) {
            String text = new Generator(TestModels.tiny(7), TestModels.CHARS)
                    .generate(template(String.valueOf(c)).render(hello), greedy, TokenListener.NONE).text();
            if (text.indexOf(c) > 0) {
                marker = String.valueOf(c);
                break;
            }
        }
        assertTrue(marker != null, "the model writes none of the candidate markers");
        JinjaChatTemplate template = template(marker);
        assertEquals(List.of(marker), template.stopStrings());
        assertEquals(List.of(TestModels.CHARS.encode(marker)[0]), template.stopTokens(TestModels.CHARS));
        OpenAiServer server = OpenAiServer.start(TestModels.config(), new BatchedEngine(TestModels.tiny(7), TestModels.CONTEXT),
                TestModels.CHARS, template, null);
        try {
            Http http = new Http(server.baseUrl());
            String prompt = template.render(hello);
            assertEquals("USER: Hello?" + marker + "\nASSISTANT:", prompt);
            GenerationResult alone = new Generator(TestModels.tiny(7), TestModels.CHARS).generate(prompt,
                    greedy.toBuilder().stopTokens(template.stopTokens(TestModels.CHARS)).build(), TokenListener.NONE);
            assertEquals(StopReason.END_OF_TEXT, alone.reason());

            Http.Response r = http.post("/v1/chat/completions", OpenAiServerTest.chat("Hello?", 40));
            assertEquals(200, r.status(), r.body());
            JsonNode json = r.json();
            assertEquals(alone.text(), json.get("choices").get(0).get("message").get("content").asText());
            assertEquals("stop", json.get("choices").get(0).get("finish_reason").asText());
            assertEquals(prompt.length(), json.get("usage").get("prompt_tokens").asInt());
            assertEquals(alone.tokens().length, json.get("usage").get("completion_tokens").asInt());
        } finally {
            server.drainAndStop();
        }
    }

    @Test
    void aConversationTheTemplateRejectsIsA400WithoutTheModelsPath() throws Exception {
        OpenAiServer server = OpenAiServer.start(TestModels.config(), new BatchedEngine(TestModels.tiny(7), TestModels.CONTEXT),
                TestModels.CHARS, template("."), null);
        try {
            ObjectNode body = OpenAiServerTest.chat("Hi", 4);
            body.withArray("messages").addObject().put("role", "user").put("content", "Hi again");
            Http.Response r = new Http(server.baseUrl()).post("/v1/chat/completions", body);
            OpenAiServerTest.assertError(r, 400, "messages");
            String message = r.json().get("error").get("message").asText();
            assertEquals("the chat template rejects the conversation: Conversation roles must alternate", message);
            assertTrue(!message.contains("/models/tiny"), message);
        } finally {
            server.drainAndStop();
        }
    }
}
