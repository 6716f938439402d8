package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks that a streamed answer is well-formed and complete, and returns what it says. */
final class Streams {
    record Result(String id, String text, String finishReason, JsonNode usage) {
    }

    private Streams() {
    }

    /**
     * Every event but the last is a JSON chunk of one id and object type; exactly one chunk (the
     * last with choices) has a finish_reason; the stream ends with {@code [DONE]}.
     */
    static Result check(Http.Response r, boolean chat) throws IOException {
        assertEquals(200, r.status(), r.body());
        assertTrue(r.header("Content-Type").startsWith("text/event-stream"), r.header("Content-Type"));
        List<String> events = r.events();
        assertTrue(events.size() >= 2, "too few events: " + events);
        assertEquals("[DONE]", events.get(events.size() - 1), "the stream must end with [DONE]: " + events);
        StringBuilder text = new StringBuilder();
        String id = null;
        String finish = null;
        JsonNode usage = null;
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode chunk = Http.JSON.readTree(events.get(i));
            assertTrue(chunk.get("error") == null, "error event: " + chunk);
            assertEquals(chat ? "chat.completion.chunk" : "text_completion", chunk.get("object").asText());
            if (id == null) {
                id = chunk.get("id").asText();
            }
            assertEquals(id, chunk.get("id").asText(), "one id per stream");
            JsonNode choices = chunk.get("choices");
            if (choices.isEmpty()) {   // the usage chunk, last
                assertEquals(events.size() - 2, i, "the usage chunk comes last");
                usage = chunk.get("usage");
                continue;
            }
            assertNull(finish, "a chunk after the one with the finish reason: " + chunk);
            JsonNode c = choices.get(0);
            assertEquals(0, c.get("index").asInt());
            if (chat) {
                if (i == 0) {
                    assertEquals("assistant", c.get("delta").get("role").asText(), "the first chat chunk names the role");
                }
                text.append(c.get("delta").path("content").asText(""));
            } else {
                text.append(c.get("text").asText());
            }
            if (!c.get("finish_reason").isNull()) {
                finish = c.get("finish_reason").asText();
            }
        }
        assertTrue(finish != null, "no chunk had a finish_reason: " + events);
        return new Result(id, text.toString(), finish, usage);
    }
}
