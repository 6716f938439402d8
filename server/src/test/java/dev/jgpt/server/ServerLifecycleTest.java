package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.jgpt.server.OpenAiServerTest.assertError;
import static dev.jgpt.server.OpenAiServerTest.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys, limits, a full queue, clients that leave, CORS, and shutting down. */
@Timeout(120)
class ServerLifecycleTest {

    static GatedEngine gated() {
        return new GatedEngine(new BatchedEngine(TestModels.tiny(3), TestModels.CONTEXT));
    }

    @Test
    void anApiKeyGuardsV1ButNotHealth() throws Exception {
        OpenAiServer server = TestModels.serve(TestModels.tiny(3), TestModels.config().withApiKey("s3cret"));
        try {
            Http anonymous = new Http(server.baseUrl());
            Http.Response missing = anonymous.post("/v1/completions", completion("a", 2));
            assertError(missing, 401, null);
            assertEquals("missing_api_key", missing.json().get("error").get("code").asText());
            assertError(anonymous.get("/v1/models"), 401, null);
            Http.Response wrong = anonymous.withKey("guess").post("/v1/completions", completion("a", 2));
            assertError(wrong, 401, null);
            assertEquals("invalid_api_key", wrong.json().get("error").get("code").asText());
            assertEquals(200, anonymous.withKey("s3cret").post("/v1/completions", completion("a", 2)).status());
            assertEquals(200, anonymous.get("/health").status());
        } finally {
            server.drainAndStop();
        }
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        OpenAiServer server = TestModels.serve(TestModels.tiny(3), TestModels.config().withMaxBodyBytes(2_000));
        try {
            Http http = new Http(server.baseUrl());
            Http.Response r = http.post("/v1/completions", completion("a".repeat(3_000), 2));
            assertError(r, 413, null);
            assertTrue(r.json().get("error").get("message").asText().contains("2000 bytes"), r.body());
            assertEquals(200, http.post("/v1/completions", completion("a", 2)).status());
        } finally {
            server.drainAndStop();
        }
    }

    @Test
    void aFullQueueIs429WithRetryAfter() throws Exception {
        GatedEngine engine = gated();
        OpenAiServer server = TestModels.serve(engine, TestModels.config().withParallel(1, 1));
        try {
            Http http = new Http(server.baseUrl());
            CompletableFuture<Http.Response> running = async(() -> post(http, completion("ROMEO:", 3)));
            engine.awaitEntered(1);
            CompletableFuture<Http.Response> queued = async(() -> post(http, completion("KING:", 3)));
            awaitQueued(server, 1);
            Http.Response busy = http.post("/v1/completions", completion("a", 3));
            assertError(busy, 429, null);
            assertEquals("1", busy.header("Retry-After"));
            engine.open();
            assertEquals(200, running.get().status());
            assertEquals(200, queued.get().status());
        } finally {
            engine.open();
            server.drainAndStop();
        }
    }

    /** Runs {@code task} on a thread of its own (a pool could run blocking tasks one after another). */
    static <T> CompletableFuture<T> async(java.util.function.Supplier<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(task.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    static void awaitQueued(OpenAiServer server, int n) {
        awaitUntil(() -> server.scheduler().queued() >= n, n + " queued requests");
    }

    static Http.Response post(Http http, JsonNode body) {
        try {
            return http.post("/v1/completions", body);
        } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsSlot() throws Exception {
        GatedEngine engine = gated();
        OpenAiServer server = TestModels.serve(engine, TestModels.config().withParallel(1, 1));
        try {
            Http http = new Http(server.baseUrl());
            int maxTokens = 50;
            Socket socket = new Socket("127.0.0.1", server.port());
            String body = Http.JSON.writeValueAsString(completion("ROMEO:", maxTokens).put("stream", true));
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            engine.allow(1);   // the prompt's step: one token
            String line;
            while ((line = in.readLine()) != null && !line.contains("data: ")) {
                // headers and chunk sizes
            }
            assertTrue(line != null && line.contains("text_completion"), "no first chunk: " + line);
            socket.setSoLinger(true, 0);   // reset, as a killed client would
            socket.close();
            int stepsAtClose = engine.completedSteps();

            // a queued request can only finish if the slot is freed
            CompletableFuture<Http.Response> next = async(() -> post(http, completion("KING:", 3)));
            awaitQueued(server, 1);
            // one step at a time until nothing is left to run
            while (server.scheduler().running() + server.scheduler().queued() > 0) {
                int done = engine.completedSteps();
                engine.allow(1);
                awaitUntil(() -> engine.completedSteps() > done
                        || server.scheduler().running() + server.scheduler().queued() == 0, "a step");
                assertTrue(engine.completedSteps() - stepsAtClose < maxTokens, "the slot was never freed");
            }
            engine.open();
            assertEquals(200, next.get().status());
            int stepsForTheDeparted = engine.completedSteps() - stepsAtClose - 3;
            assertTrue(stepsForTheDeparted < 10, "the departed stream ran " + stepsForTheDeparted
                    + " more steps; it would have run " + (maxTokens - 1));
            assertTrue(server.metrics().scrape().contains("jgpt_generations_total{reason=\"cancelled\"} 1.0"),
                    server.metrics().scrape());
        } finally {
            engine.open();
            server.drainAndStop();
        }
    }

    @Test
    void noCorsHeadersUnlessAsked() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        OpenAiServer plain = TestModels.serve(TestModels.tiny(3), TestModels.config());
        OpenAiServer cors = TestModels.serve(TestModels.tiny(3), TestModels.config()
                .withCorsOrigins(List.of("http://localhost:3000")));
        try {
            HttpRequest.Builder r = HttpRequest.newBuilder().header("Origin", "http://localhost:3000").GET();
            HttpResponse<String> a = client.send(r.uri(URI.create(plain.baseUrl() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, a.statusCode());
            assertTrue(a.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), a.headers().toString());
            HttpResponse<String> b = client.send(r.uri(URI.create(cors.baseUrl() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("http://localhost:3000", b.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            HttpResponse<String> other = client.send(HttpRequest.newBuilder(URI.create(cors.baseUrl() + "/v1/models"))
                    .header("Origin", "http://evil.example").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), other.headers().toString());
        } finally {
            plain.drainAndStop();
            cors.drainAndStop();
        }
    }

    @Test
    void drainLetsRunningRequestsFinishRefusesNewOnesThenStops() throws Exception {
        GatedEngine engine = gated();
        OpenAiServer server = TestModels.serve(engine, TestModels.config().withParallel(2, 2));
        Http http = new Http(server.baseUrl());
        try {
            CompletableFuture<Http.Response> streaming = async(() -> {
                try {
                    return http.post("/v1/chat/completions", OpenAiServerTest.chat("Hi", 6).put("stream", true));
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            CompletableFuture<Http.Response> whole = async(() -> post(http, completion("ROMEO:", 6)));
            startBoth(engine, server);
            CompletableFuture<Boolean> drained = async(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            awaitUntil(() -> !server.scheduler().isAccepting(), "the drain to begin");
            Http.Response refused = http.post("/v1/completions", completion("a", 2));
            assertError(refused, 503, null);
            assertEquals("shutting_down", refused.json().get("error").get("code").asText());
            assertTrue(refused.header("Retry-After") != null);
            assertEquals(503, http.get("/health").status());
            int port = server.port();
            engine.open();   // the running requests may go on
            assertTrue(drained.get(), "every request finished within the drain timeout");
            Streams.Result s = Streams.check(streaming.get(), true);
            assertEquals("length", s.finishReason());
            assertEquals(200, whole.get().status());
            assertEquals("length", whole.get().json().get("choices").get(0).get("finish_reason").asText());
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close(),
                    "the port is closed after the drain");
        } finally {
            engine.open();
            server.close();
        }
    }

    @Test
    void afterTheDrainTimeoutStreamsEndWithAnErrorEvent() throws Exception {
        GatedEngine engine = gated();
        OpenAiServer server = TestModels.serve(engine, TestModels.config().withParallel(2, 2).withDrainTimeout(Duration.ZERO));
        Http http = new Http(server.baseUrl());
        try {
            CompletableFuture<Http.Response> streaming = async(() -> post(http,
                    completion("ROMEO:", 40).put("stream", true)));
            CompletableFuture<Http.Response> whole = async(() -> post(http, completion("KING:", 40)));
            startBoth(engine, server);
            CompletableFuture<Boolean> drained = async(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            awaitUntil(() -> !server.scheduler().isAccepting(), "the drain to begin");
            engine.allow(1);   // the step in progress ends; the abort comes before the next
            assertFalse(drained.get(), "the requests could not finish in a zero drain timeout");
            List<String> events = streaming.get().events();
            JsonNode last = Http.JSON.readTree(events.get(events.size() - 1));
            assertEquals("shutting_down", last.get("error").get("code").asText(), events.toString());
            assertFalse(events.contains("[DONE]"));
            assertError(whole.get(), 503, null);
        } finally {
            engine.open();
            server.close();
        }
    }

    /**
     * With two requests sent, lets steps run one by one until both are in slots (a request joins
     * between steps, so the second may need the first's step to end).
     */
    static void startBoth(GatedEngine engine, OpenAiServer server) throws InterruptedException {
        engine.awaitEntered(1);
        awaitUntil(() -> server.scheduler().running() + server.scheduler().queued() == 2, "both requests to arrive");
        while (server.scheduler().running() < 2) {
            engine.allow(1);
            engine.awaitEntered(1);
        }
    }

    /** Waits for a condition another thread makes true, at most 30 s. */
    static void awaitUntil(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 30 s for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Test
    void chatIsA501WhenTheModelsTemplateCannotBeRendered() throws Exception {
        OpenAiServer server = OpenAiServer.start(TestModels.config(), new BatchedEngine(TestModels.tiny(3), TestModels.CONTEXT),
                TestModels.CHARS, null, "its chat_template needs Jinja");
        try {
            Http http = new Http(server.baseUrl());
            Http.Response r = http.post("/v1/chat/completions", OpenAiServerTest.chat("Hi", 3));
            assertError(r, 501, null);
            assertTrue(r.json().get("error").get("message").asText().contains("Jinja"), r.body());
            assertEquals(200, http.post("/v1/completions", completion("a", 2)).status());
            assertNull(r.header("Retry-After"));
        } finally {
            server.drainAndStop();
        }
    }
}
