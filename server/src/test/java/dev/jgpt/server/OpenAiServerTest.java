package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.PlainChatTemplate;
import dev.jgpt.model.GPT;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every endpoint, answered whole and streamed, against the same model run without a server. */
@Timeout(120)
class OpenAiServerTest {
    static final long SEED = 1;
    static OpenAiServer server;
    static Http http;
    static GPT reference;   // same weights as the served model, for single-request outputs

    @BeforeAll
    static void start() {
        server = TestModels.serve(TestModels.tiny(SEED), TestModels.config());
        http = new Http(server.baseUrl());
        reference = TestModels.tiny(SEED);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.drainAndStop();
    }

    static ObjectNode completion(String prompt, int maxTokens) {
        return Http.JSON.createObjectNode().put("model", "tiny").put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0);
    }

    static ObjectNode chat(String user, int maxTokens) {
        ObjectNode body = Http.JSON.createObjectNode().put("model", "tiny").put("max_tokens", maxTokens).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        return body;
    }

    @Test
    void modelsListsTheOneModel() throws Exception {
        Http.Response r = http.get("/v1/models");
        assertEquals(200, r.status());
        JsonNode json = r.json();
        assertEquals("list", json.get("object").asText());
        assertEquals(1, json.get("data").size());
        assertEquals("tiny", json.get("data").get(0).get("id").asText());
        assertEquals("model", json.get("data").get(0).get("object").asText());
        assertEquals("tiny", http.get("/v1/models/tiny").json().get("id").asText());
        Http.Response other = http.get("/v1/models/gpt-4");
        assertEquals(404, other.status());
        assertEquals("model_not_found", other.json().get("error").get("code").asText());
    }

    @Test
    void healthAndMetrics() throws Exception {
        Http.Response h = http.get("/health");
        assertEquals(200, h.status());
        assertEquals("ok", h.json().get("status").asText());
        http.post("/v1/completions", completion("To be", 3));
        Http.Response m = http.get("/metrics");
        assertEquals(200, m.status());
        assertTrue(m.header("Content-Type").startsWith("text/plain"), m.header("Content-Type"));
        for (String metric : List.of("jgpt_requests_seconds_count{endpoint=\"/v1/completions\",status=\"200\"}",
                "jgpt_generated_tokens_total", "jgpt_prompt_tokens_total", "jgpt_queue_depth", "jgpt_sequences_running",
                "jgpt_decode_tokens_per_second", "jgpt_time_to_first_token_seconds{quantile=\"0.95\"}",
                "jgpt_time_to_first_token_seconds_count", "jgpt_step_sequences_count")) {
            assertTrue(m.body().contains(metric), metric + " missing from\n" + m.body());
        }
    }

    @Test
    void completionEqualsGeneratingWithoutAServer() throws Exception {
        GenerationResult alone = TestModels.greedyAlone(reference, "ROMEO:", 20, List.of());
        Http.Response r = http.post("/v1/completions", completion("ROMEO:", 20));
        assertEquals(200, r.status(), r.body());
        JsonNode json = r.json();
        assertEquals("text_completion", json.get("object").asText());
        assertTrue(json.get("id").asText().startsWith("cmpl-"));
        assertEquals("tiny", json.get("model").asText());
        JsonNode choice = json.get("choices").get(0);
        assertEquals(alone.text(), choice.get("text").asText());
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals(6, json.get("usage").get("prompt_tokens").asInt());
        assertEquals(20, json.get("usage").get("completion_tokens").asInt());
        assertEquals(26, json.get("usage").get("total_tokens").asInt());
        assertTrue(alone.text().chars().distinct().count() > 2, "a varied output makes the comparison mean something");
    }

    @Test
    void streamedCompletionAddsUpToTheWholeAnswer() throws Exception {
        String whole = http.post("/v1/completions", completion("ROMEO:", 20)).json().get("choices").get(0).get("text").asText();
        ObjectNode body = completion("ROMEO:", 20).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        Streams.Result s = Streams.check(http.post("/v1/completions", body), false);
        assertEquals(whole, s.text());
        assertEquals("length", s.finishReason());
        assertEquals(20, s.usage().get("completion_tokens").asInt());
        assertEquals(26, s.usage().get("total_tokens").asInt());
        Streams.Result plain = Streams.check(http.post("/v1/completions", completion("ROMEO:", 5).put("stream", true)), false);
        assertEquals(null, plain.usage(), "usage only when asked for");
    }

    @Test
    void aStopStringEndsTheAnswerWithFinishReasonStop() throws Exception {
        String full = TestModels.greedyAlone(reference, "JULIET:", 30, List.of()).text();
        String stop = full.substring(8, 10);
        String expected = full.substring(0, full.indexOf(stop));
        ObjectNode body = completion("JULIET:", 30);
        body.putArray("stop").add(stop);
        JsonNode json = http.post("/v1/completions", body).json();
        assertEquals(expected, json.get("choices").get(0).get("text").asText());
        assertEquals("stop", json.get("choices").get(0).get("finish_reason").asText());
        Streams.Result s = Streams.check(http.post("/v1/completions", body.put("stream", true)), false);
        assertEquals(expected, s.text());
        assertEquals("stop", s.finishReason());
    }

    @Test
    void promptAsTokenIdsAndTheContextLimit() throws Exception {
        ObjectNode body = Http.JSON.createObjectNode().put("max_tokens", 10).put("temperature", 0);
        var ids = body.putArray("prompt");
        for (int id : TestModels.CHARS.encode("ROMEO:")) {
            ids.add(id);
        }
        assertEquals(http.post("/v1/completions", completion("ROMEO:", 10)).json().get("choices").get(0).get("text"),
                http.post("/v1/completions", body).json().get("choices").get(0).get("text"));
        // the whole context: the answer stops at its end with "length"
        String longPrompt = "a".repeat(TestModels.CONTEXT - 3);
        JsonNode json = http.post("/v1/completions", completion(longPrompt, 50)).json();
        assertEquals(4, json.get("usage").get("completion_tokens").asInt(), "61 + 3 fed + the last one sampled");
        assertEquals("length", json.get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void chatUsesThePlainTemplate() throws Exception {
        String prompt = PlainChatTemplate.INSTANCE.render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hello?")));
        GenerationResult alone = TestModels.greedyAlone(reference, prompt, 24, PlainChatTemplate.INSTANCE.stopStrings());
        Http.Response r = http.post("/v1/chat/completions", chat("Hello?", 24));
        assertEquals(200, r.status(), r.body());
        JsonNode json = r.json();
        assertEquals("chat.completion", json.get("object").asText());
        assertTrue(json.get("id").asText().startsWith("chatcmpl-"));
        JsonNode message = json.get("choices").get(0).get("message");
        assertEquals("assistant", message.get("role").asText());
        assertEquals(alone.text(), message.get("content").asText());
        assertEquals(TestModels.CHARS.encode(prompt).length, json.get("usage").get("prompt_tokens").asInt());
        Streams.Result s = Streams.check(http.post("/v1/chat/completions", chat("Hello?", 24).put("stream", true)), true);
        assertEquals(alone.text(), s.text());
        assertEquals(json.get("choices").get(0).get("finish_reason").asText(), s.finishReason());
    }

    @Test
    void chatTakesTextPartsAndSystemMessages() throws Exception {
        ObjectNode body = Http.JSON.createObjectNode().put("max_tokens", 8).put("temperature", 0);
        var messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "Be brief.");
        messages.addObject().put("role", "user").putArray("content").addObject().put("type", "text").put("text", "Hi");
        String prompt = PlainChatTemplate.INSTANCE.render(List.of(new ChatMessage(ChatMessage.Role.SYSTEM, "Be brief."),
                new ChatMessage(ChatMessage.Role.USER, "Hi")));
        Http.Response r = http.post("/v1/chat/completions", body);
        assertEquals(200, r.status(), r.body());
        assertEquals(TestModels.greedyAlone(reference, prompt, 8, PlainChatTemplate.INSTANCE.stopStrings()).text(),
                r.json().get("choices").get(0).get("message").get("content").asText());
    }

    @Test
    void aSeedReproducesSampling() throws Exception {
        ObjectNode body = completion("KING:", 30).put("temperature", 1.0).put("seed", 42);
        String a = http.post("/v1/completions", body).json().get("choices").get(0).get("text").asText();
        String b = http.post("/v1/completions", body).json().get("choices").get(0).get("text").asText();
        String c = http.post("/v1/completions", body.put("seed", 43)).json().get("choices").get(0).get("text").asText();
        assertEquals(a, b);
        assertTrue(!a.equals(c), "seeds 42 and 43 gave the same 30 characters: " + a);
    }

    @Test
    void topPZeroIsGreedy() throws Exception {
        String greedy = http.post("/v1/completions", completion("KING:", 15)).json().get("choices").get(0).get("text").asText();
        ObjectNode body = completion("KING:", 15).put("temperature", 1.5).put("top_p", 0).put("seed", 3);
        assertEquals(greedy, http.post("/v1/completions", body).json().get("choices").get(0).get("text").asText());
    }

    static void assertError(Http.Response r, int status, String param) throws IOException {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
        JsonNode error = r.json().get("error");
        assertTrue(error != null && error.get("message").isTextual() && error.has("type") && error.has("param")
                && error.has("code"), "not OpenAI's error shape: " + r.body());
        if (param != null) {
            assertEquals(param, error.get("param").asText(), r.body());
        }
    }

    @Test
    void badRequestsAre400sNamingTheField() throws Exception {
        assertError(http.post("/v1/completions", "{\"prompt\": \"a\", "), 400, null);
        assertError(http.post("/v1/completions", "[1, 2]"), 400, null);
        assertError(http.post("/v1/completions", "{\"max_tokens\": 3}"), 400, "prompt");
        assertError(http.post("/v1/completions", completion("a", 3).put("temperature", "hot")), 400, "temperature");
        assertError(http.post("/v1/completions", completion("a", 3).put("temperature", 2.5)), 400, "temperature");
        assertError(http.post("/v1/completions", completion("a", 3).put("max_tokens", 0)), 400, "max_tokens");
        assertError(http.post("/v1/completions", completion("a", 3).put("max_tokens", 2.5)), 400, "max_tokens");
        assertError(http.post("/v1/completions", completion("a", 3).put("n", 2)), 400, "n");
        assertError(http.post("/v1/completions", completion("a", 3).put("stream", "yes")), 400, "stream");
        assertError(http.post("/v1/completions", completion("a", 3).put("presence_penalty", 0.5)), 400, "presence_penalty");
        assertError(http.post("/v1/completions", completion("a", 3).put("frequency_penalty", 1)), 400, "frequency_penalty");
        assertError(http.post("/v1/completions", completion("a", 3).put("echo", true)), 400, "echo");
        assertError(http.post("/v1/completions", completion("a", 3).put("seed", "x")), 400, "seed");
        ObjectNode fiveStops = completion("a", 3);
        fiveStops.putArray("stop").add("a").add("b").add("c").add("d").add("e");
        assertError(http.post("/v1/completions", fiveStops), 400, "stop");
        assertError(http.post("/v1/completions", completion("a", 3).put("stop", "")), 400, "stop");
        ObjectNode twoPrompts = completion("a", 3);
        twoPrompts.putArray("prompt").add("a").add("b");
        assertError(http.post("/v1/completions", twoPrompts), 400, "prompt");
        assertError(http.post("/v1/completions", completion("a", 3).put("prompt", "snow \u2603")), 400, "prompt");
        assertError(http.post("/v1/chat/completions", Http.JSON.createObjectNode().putArray("messages")), 400, null);
        ObjectNode tool = chat("a", 3);
        ((ObjectNode) tool.get("messages").get(0)).put("role", "tool");
        assertError(http.post("/v1/chat/completions", tool), 400, "messages[0].role");
        ObjectNode tools = chat("a", 3);
        tools.putArray("tools").addObject().put("type", "function");
        assertError(http.post("/v1/chat/completions", tools), 400, "tools");
    }

    @Test
    void aPromptLongerThanTheContextIsA400NamingTheLimit() throws Exception {
        Http.Response r = http.post("/v1/completions", completion("a".repeat(TestModels.CONTEXT + 1), 3));
        assertError(r, 400, "prompt");
        assertEquals("context_length_exceeded", r.json().get("error").get("code").asText());
        String message = r.json().get("error").get("message").asText();
        assertTrue(message.contains("maximum context length is " + TestModels.CONTEXT + " tokens")
                && message.contains((TestModels.CONTEXT + 1) + " tokens"), message);
        assertError(http.post("/v1/chat/completions", chat("a".repeat(TestModels.CONTEXT), 3)), 400, "messages");
    }

    @Test
    void unknownModelAndPathAre404s() throws Exception {
        Http.Response r = http.post("/v1/completions", completion("a", 3).put("model", "gpt-4"));
        assertError(r, 404, "model");
        assertEquals("model_not_found", r.json().get("error").get("code").asText());
        assertError(http.post("/v1/chat/completions", chat("a", 3).put("model", "../../etc/passwd")), 404, "model");
        assertError(http.get("/v1/nothing"), 404, null);
        assertError(http.get("/"), 404, null);
    }
}
