package dev.jgpt.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.PlainChatTemplate;
import dev.jgpt.model.GPT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 64 requests from 16 concurrent clients (completions and chat, streamed and whole, greedy, of
 * different lengths): no errors, every stream well-formed and complete, and every answer equal to
 * what the same model gives the request alone, without a server.
 */
@Timeout(300)
class LoadTest {
    static final int CLIENTS = 16;
    static final int REQUESTS_PER_CLIENT = 4;

    record Case(boolean chat, boolean stream, String prompt, int maxTokens) {
    }

    @Test
    void sixtyFourRequestsFromSixteenClients() throws Exception {
        GPT reference = TestModels.tiny(11);
        OpenAiServer server = TestModels.serve(TestModels.tiny(11), TestModels.config().withParallel(8, 16));
        List<String> words = List.of("ROMEO", "JULIET", "KING", "QUEEN", "Nurse", "Friar", "Duke", "Lady");
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < CLIENTS * REQUESTS_PER_CLIENT; i++) {
            String prompt = words.get(i % words.size()) + (i % 3 == 0 ? ":" : " of " + words.get((i * 5 + 1) % words.size()));
            cases.add(new Case(i % 4 >= 2, i % 2 == 1, prompt, 8 + (i * 7) % 29));
        }
        List<String> failures = new CopyOnWriteArrayList<>();
        ConcurrentHashMap<Integer, String> answers = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            Http http = new Http(server.baseUrl());
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                running.add(clients.submit(() -> {
                    for (int r = 0; r < REQUESTS_PER_CLIENT; r++) {
                        int i = client * REQUESTS_PER_CLIENT + r;
                        Case k = cases.get(i);
                        try {
                            answers.put(i, ask(http, k));
                        } catch (Throwable t) {
                            failures.add("request " + i + " " + k + ": " + t);
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get(240, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
            server.drainAndStop();
        }
        assertEquals(List.of(), failures);
        assertEquals(cases.size(), answers.size());
        for (int i = 0; i < cases.size(); i++) {
            Case k = cases.get(i);
            String prompt = k.chat() ? PlainChatTemplate.INSTANCE.render(List.of(new ChatMessage(ChatMessage.Role.USER, k.prompt())))
                    : k.prompt();
            List<String> stops = k.chat() ? PlainChatTemplate.INSTANCE.stopStrings() : List.of();
            assertEquals(TestModels.greedyAlone(reference, prompt, k.maxTokens(), stops).text(), answers.get(i),
                    "request " + i + " " + k);
        }
        String metrics = server.metrics().scrape();
        assertTrue(metrics.contains("jgpt_requests_seconds_count{endpoint=\"/v1/completions\",status=\"200\"} 32\n"), metrics);
        assertTrue(metrics.contains("jgpt_requests_seconds_count{endpoint=\"/v1/chat/completions\",status=\"200\"} 32\n"), metrics);
    }

    static String ask(Http http, Case k) throws Exception {
        ObjectNode body = Http.JSON.createObjectNode().put("max_tokens", k.maxTokens()).put("temperature", 0)
                .put("stream", k.stream());
        if (k.chat()) {
            body.putArray("messages").addObject().put("role", "user").put("content", k.prompt());
        } else {
            body.put("prompt", k.prompt());
        }
        Http.Response r = http.post(k.chat() ? "/v1/chat/completions" : "/v1/completions", body);
        if (k.stream()) {
            return Streams.check(r, k.chat()).text();
        }
        assertEquals(200, r.status(), r.body());
        var choice = r.json().get("choices").get(0);
        return k.chat() ? choice.get("message").get("content").asText() : choice.get("text").asText();
    }
}
