package dev.jgpt.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.infer.ChatTemplate;
import dev.jgpt.infer.ChatTemplateException;
import dev.jgpt.infer.GenerationConfig;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.StopReason;
import dev.jgpt.tokenizer.Tokenizer;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.handler.GracefulHandler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible HTTP server for one model, on Javalin (Jetty):
 * {@code GET /v1/models}, {@code POST /v1/completions}, {@code POST /v1/chat/completions} (each
 * streamed as server-sent events or answered whole), {@code GET /health} and {@code GET /metrics}.
 * Requests become {@link Job}s of a {@link Scheduler}, which batches the running ones.
 *
 * <p>Errors come in OpenAI's JSON shape ({@link ApiException}). A streaming client that goes away
 * is noticed at the next write and its job cancelled, which frees its slot before the next step.
 * {@link #drainAndStop()} (what SIGTERM runs) refuses new requests with 503, lets the running
 * ones finish (or ends them with an error event after the drain timeout) and stops.
 */
public final class OpenAiServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A streaming client waiting in the queue gets a comment this often (and is noticed if gone). */
    static final long KEEP_ALIVE_SECONDS = 10;
    private static final Set<String> ENDPOINTS = Set.of("/health", "/metrics", "/v1/models", "/v1/completions",
            "/v1/chat/completions");

    private final ServerConfig config;
    private final Scheduler scheduler;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final String chatUnavailable;
    private final List<Integer> chatStopTokens;   // the template's end-of-turn tokens, e.g. <|im_end|>
    private final GenerationConfig modelDefaults;   // generation_config.json: eos ids and sampling defaults
    private final ServerMetrics metrics;
    private final long createdSeconds = System.currentTimeMillis() / 1000;
    private final byte[] apiKey;
    private final Javalin app;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean stopping;   // guarded by this

    /**
     * Starts serving. The engine's sequences (KV caches) are made now, one per {@code parallel}.
     *
     * @param chatTemplate    renders chat requests; null if the model has none this server can use
     * @param chatUnavailable why chat is unavailable (answered as 501), when {@code chatTemplate} is null
     */
    public static OpenAiServer start(ServerConfig config, BatchEngine engine, Tokenizer tokenizer,
                                     ChatTemplate chatTemplate, String chatUnavailable) {
        return start(config, engine, tokenizer, chatTemplate, chatUnavailable, GenerationConfig.NONE);
    }

    /**
     * Starts serving with the model's generation defaults: its end-of-generation ids end every
     * answer, and its sampling settings (temperature, top-p, top-k, repetition penalty, greedy for
     * {@code do_sample: false}) apply where a request does not set them, as vLLM and TGI do.
     */
    public static OpenAiServer start(ServerConfig config, BatchEngine engine, Tokenizer tokenizer,
                                     ChatTemplate chatTemplate, String chatUnavailable, GenerationConfig modelDefaults) {
        return new OpenAiServer(config, engine, tokenizer, chatTemplate, chatUnavailable, modelDefaults);
    }

    private OpenAiServer(ServerConfig config, BatchEngine engine, Tokenizer tokenizer, ChatTemplate chatTemplate,
                         String chatUnavailable, GenerationConfig modelDefaults) {
        if (chatTemplate == null && chatUnavailable == null) {
            throw new IllegalArgumentException("no chat template and no reason why");
        }
        this.config = config;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.chatUnavailable = chatUnavailable;
        this.chatStopTokens = chatTemplate == null ? List.of() : chatTemplate.stopTokens(tokenizer);
        this.modelDefaults = modelDefaults;
        this.metrics = new ServerMetrics();
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        this.scheduler = new Scheduler(engine, tokenizer, config.parallel(), config.maxQueued(), metrics);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.startup.startupWatcherEnabled = false;
            cfg.jetty.host = config.host();
            cfg.jetty.port = config.port();
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.http.compressionStrategy = CompressionStrategy.NONE;
            cfg.concurrency.useVirtualThreads = true;   // handlers block on their job's events
            cfg.jetty.modifyServer(server -> {
                // Jetty's own graceful stop: after our drain, responses still being written complete
                server.insertHandler(new GracefulHandler());
                server.setStopTimeout(5_000);
            });
            if (!config.corsOrigins().isEmpty()) {
                List<String> origins = config.corsOrigins();
                cfg.bundledPlugins.enableCors(cors -> cors.addRule(rule -> rule.allowHost(origins.get(0),
                        origins.subList(1, origins.size()).toArray(String[]::new))));
            }
            cfg.requestLogger.http((ctx, ms) -> metrics.recordRequest(ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other",
                    ctx.statusCode(), Duration.ofNanos((long) (ms * 1e6))));
            cfg.routes.before("/v1/*", this::authorize);
            cfg.routes.get("/health", this::health);
            cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            cfg.routes.get("/v1/models", ctx -> json(ctx, 200, JSON.createObjectNode().put("object", "list")
                    .set("data", JSON.createArrayNode().add(modelObject()))));
            cfg.routes.get("/v1/models/{model}", ctx -> {
                checkModel(ctx.pathParam("model"));
                json(ctx, 200, modelObject());
            });
            cfg.routes.post("/v1/completions", ctx -> generate(ctx, false));
            cfg.routes.post("/v1/chat/completions", ctx -> generate(ctx, true));
            cfg.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, fromHttp(e)));
            cfg.routes.exception(Exception.class, (e, ctx) -> error(ctx, new ApiException(500, "server_error", null, null,
                    "internal error: " + e, 0)));
        });
        try {
            app.start();
        } catch (RuntimeException e) {
            closeScheduler();
            throw e;
        }
    }

    /** The port listened on (the one picked when the configured port is 0). */
    public int port() {
        return app.port();
    }

    /** {@code http://HOST:PORT}. */
    public String baseUrl() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /**
     * Graceful shutdown, what SIGTERM runs: no new requests (503 with Retry-After), queued and
     * running ones finish (after the drain timeout they end with an error event), then the HTTP
     * server stops. Idempotent; later calls wait for the first.
     *
     * @return true if every request finished normally
     */
    public boolean drainAndStop() throws InterruptedException {
        synchronized (this) {
            if (stopping) {
                stopped.await();
                return true;
            }
            stopping = true;
        }
        try {
            return scheduler.drain(config.drainTimeout());
        } finally {
            stopNow();
        }
    }

    /** Waits until the server has stopped. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Stops without draining: running requests end with an error event. */
    @Override
    public void close() {
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        stopNow();
    }

    private void stopNow() {
        try {
            closeScheduler();   // jobs still running get their Failed event, so their handlers return
            app.stop();         // waits (GracefulHandler, bounded) for responses still being written
        } finally {
            stopped.countDown();
        }
    }

    private void closeScheduler() {
        try {
            scheduler.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- handlers ----

    private void authorize(Context ctx) {
        if (apiKey == null || ctx.method() == HandlerType.OPTIONS) {
            return;   // a CORS preflight carries no credentials
        }
        String header = ctx.header("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ")
                ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : null;
        if (given == null || !MessageDigest.isEqual(given, apiKey)) {   // constant time
            throw new ApiException(401, "invalid_request_error", given == null ? "missing_api_key" : "invalid_api_key",
                    null, given == null ? "missing API key: send the header 'Authorization: Bearer KEY'"
                    : "incorrect API key provided", 0);
        }
    }

    private void health(Context ctx) {
        boolean up = scheduler.isAccepting();
        json(ctx, up ? 200 : 503, JSON.createObjectNode().put("status", up ? "ok" : "shutting_down")
                .put("model", config.modelId()).put("running", scheduler.running()).put("queued", scheduler.queued())
                .put("parallel", scheduler.parallel()));
    }

    private ObjectNode modelObject() {
        return JSON.createObjectNode().put("id", config.modelId()).put("object", "model")
                .put("created", createdSeconds).put("owned_by", "jgpt");
    }

    private void checkModel(String requested) {
        if (requested != null && !requested.equals(config.modelId())) {
            throw new ApiException(404, "invalid_request_error", "model_not_found", "model", "the model '" + requested
                    + "' does not exist; this server has '" + config.modelId() + "'", 0);
        }
    }

    private void generate(Context ctx, boolean chat) throws IOException, InterruptedException {
        JsonNode body = readJson(ctx);
        ApiRequest req = chat ? ApiRequest.chat(body) : ApiRequest.completion(body);
        checkModel(req.model());
        List<String> stops = new ArrayList<>(req.stop());
        int[] ids;
        String promptParam = chat ? "messages" : "prompt";
        if (chat) {
            if (chatTemplate == null) {
                throw new ApiException(501, "invalid_request_error", "chat_not_supported", null,
                        "chat is not available for this model: " + chatUnavailable, 0);
            }
            String prompt;
            try {
                prompt = chatTemplate.render(req.messages());
            } catch (ChatTemplateException e) {   // e.g. roles out of the order the model's template allows
                throw ApiException.badRequest(e.problem(), "messages");
            }
            ids = encode(prompt, promptParam);
            stops.addAll(chatTemplate.stopStrings());
        } else if (req.promptIds() != null) {
            ids = req.promptIds();
            for (int id : ids) {
                if (id < 0 || id >= tokenizer.vocabSize()) {
                    throw ApiException.badRequest("token id " + id + " in 'prompt' is outside the vocabulary of "
                            + tokenizer.vocabSize(), promptParam);
                }
            }
        } else {
            ids = encode(req.prompt(), promptParam);
        }
        if (ids.length == 0) {   // start from the end-of-text token, as GPT-2 does for unconditional text
            ids = new int[] {tokenizer.endOfText().orElseThrow(() -> ApiException.badRequest(
                    "the prompt is empty and this model's tokenizer has no end-of-text token to start from", promptParam))};
        }
        int context = scheduler.contextLength();
        if (ids.length > context) {
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", promptParam,
                    "this model's maximum context length is " + context + " tokens, and the prompt is "
                            + ids.length + " tokens", 0);
        }
        // The OpenAI API's defaults, then the model's generation_config.json, then what the request sets.
        GenerationOptions.Builder sampling = modelDefaults.applyTo(GenerationOptions.builder()
                .temperature(1f).topP(1f).topK(0).repeatPenalty(1f));
        if (req.temperature() != null) {
            sampling.temperature(req.temperature());
        }
        if (req.topK() != null) {
            sampling.topK(req.topK());
        }
        if (req.topP() != null) {
            if (req.topP() == 0f) {   // top_p 0 keeps only the most likely token
                sampling.temperature(0f).topP(1f);
            } else {
                sampling.topP(req.topP());
            }
        }
        GenerationOptions options = sampling
                .maxTokens(req.maxTokens() != null ? req.maxTokens() : chat ? context : 16)
                .seed(req.seed() != null ? req.seed() : ThreadLocalRandom.current().nextLong())
                .stop(stops).addStopTokens(chat ? chatStopTokens : List.of()).stopAtEndOfText(true).build();
        Job job;
        try {
            job = scheduler.submit(ids, options);
        } catch (Scheduler.RejectedException e) {
            throw e.reason() == Scheduler.Rejection.QUEUE_FULL
                    ? new ApiException(429, "rate_limit_error", "server_busy", null, e.getMessage() + "; retry later", 1)
                    : new ApiException(503, "server_error", "shutting_down", null, e.getMessage(), 5);
        }
        Reply reply = new Reply(chat, (chat ? "chatcmpl-" : "cmpl-") + randomId(), System.currentTimeMillis() / 1000);
        if (req.stream()) {
            stream(ctx, job, reply, req.includeUsage());
        } else {
            answer(ctx, job, reply);
        }
    }

    private int[] encode(String text, String param) {
        try {
            return tokenizer.encode(text);
        } catch (IllegalArgumentException e) {   // e.g. a character a char-level tokenizer does not know
            throw ApiException.badRequest("'" + param + "' cannot be tokenized: " + e.getMessage(), param);
        }
    }

    private void answer(Context ctx, Job job, Reply reply) throws InterruptedException {
        try {
            while (true) {
                Job.Event e = job.take();
                if (e instanceof Job.Finished f) {
                    json(ctx, 200, reply.whole(f));
                    return;
                }
                if (e instanceof Job.Failed f) {
                    throw failure(f);
                }
            }
        } finally {
            job.cancel();   // no-op once finished; frees the slot if this thread was interrupted
        }
    }

    private ApiException failure(Job.Failed f) {
        return scheduler.isAccepting()
                ? new ApiException(500, "server_error", null, null, f.message(), 0)
                : new ApiException(503, "server_error", "shutting_down", null, f.message(), 5);
    }

    /** Server-sent events: one chunk per piece of text, a last chunk with the finish reason, [DONE]. */
    private void stream(Context ctx, Job job, Reply reply, boolean includeUsage) throws InterruptedException {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        boolean complete = false;
        try {
            OutputStream out = res.getOutputStream();
            if (reply.chat) {
                send(out, reply.chunk(JSON.createObjectNode().put("role", "assistant").put("content", ""), null, includeUsage));
            } else {
                out.flush();   // the headers, so the client knows it was accepted
            }
            while (true) {
                Job.Event e = job.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (e == null) {
                    out.write(": waiting\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else if (e instanceof Job.Text t) {
                    send(out, reply.chat
                            ? reply.chunk(JSON.createObjectNode().put("content", t.text()), null, includeUsage)
                            : reply.chunk(t.text(), null, includeUsage));
                } else if (e instanceof Job.Finished f) {
                    send(out, reply.chat
                            ? reply.chunk(JSON.createObjectNode(), finishReason(f.reason()), includeUsage)
                            : reply.chunk("", finishReason(f.reason()), includeUsage));
                    if (includeUsage) {
                        ObjectNode last = reply.header(true);
                        last.putArray("choices");
                        last.set("usage", usage(f));
                        send(out, last);
                    }
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    complete = true;
                    return;
                } else if (e instanceof Job.Failed f) {
                    send(out, failure(f).toJson(JSON));   // the stream ends with the error, no [DONE]
                    complete = true;
                    return;
                }
            }
        } catch (IOException gone) {
            // the client disconnected: fall through to cancel
        } finally {
            if (!complete) {
                job.cancel();   // frees the slot before the scheduler's next step
            }
        }
    }

    private static void send(OutputStream out, JsonNode event) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static String finishReason(StopReason r) {
        return switch (r) {
            case END_OF_TEXT, STOP_STRING -> "stop";
            case MAX_TOKENS, CONTEXT_FULL -> "length";
            case CANCELLED -> throw new IllegalArgumentException("a cancelled job has no reply");
        };
    }

    private static ObjectNode usage(Job.Finished f) {
        return JSON.createObjectNode().put("prompt_tokens", f.promptTokens()).put("completion_tokens", f.completionTokens())
                .put("total_tokens", f.promptTokens() + f.completionTokens());
    }

    /** The parts every response object of one request shares. */
    private final class Reply {
        final boolean chat;
        final String id;
        final long created;

        Reply(boolean chat, String id, long created) {
            this.chat = chat;
            this.id = id;
            this.created = created;
        }

        ObjectNode header(boolean chunk) {
            String object = chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
            return JSON.createObjectNode().put("id", id).put("object", object).put("created", created)
                    .put("model", config.modelId());
        }

        ObjectNode whole(Job.Finished f) {
            ObjectNode root = header(false);
            ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
            if (chat) {
                choice.putObject("message").put("role", "assistant").put("content", f.text());
            } else {
                choice.put("text", f.text());
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", finishReason(f.reason()));
            root.set("usage", usage(f));
            return root;
        }

        /** A chat chunk carrying {@code delta}. */
        ObjectNode chunk(ObjectNode delta, String finishReason, boolean withUsage) {
            ObjectNode root = header(true);
            ObjectNode choice = choices(root).put("index", 0);
            choice.set("delta", delta);
            return finishChunk(root, choice, finishReason, withUsage);
        }

        /** A completion chunk carrying {@code text}. */
        ObjectNode chunk(String text, String finishReason, boolean withUsage) {
            ObjectNode root = header(true);
            ObjectNode choice = choices(root).put("text", text).put("index", 0);
            return finishChunk(root, choice, finishReason, withUsage);
        }

        private ObjectNode choices(ObjectNode root) {
            ArrayNode choices = root.putArray("choices");
            return choices.addObject();
        }

        private ObjectNode finishChunk(ObjectNode root, ObjectNode choice, String finishReason, boolean withUsage) {
            choice.putNull("logprobs");
            choice.put("finish_reason", finishReason);
            if (withUsage) {
                root.putNull("usage");   // OpenAI: null on every chunk but the last, which has the counts
            }
            return root;
        }
    }

    // ---- plumbing ----

    private static JsonNode readJson(Context ctx) {
        byte[] body = ctx.bodyAsBytes();   // over the limit: HttpResponseException 413
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw ApiException.badRequest("the request body could not be read: " + e.getMessage(), null);
        }
    }

    private static void json(Context ctx, int status, JsonNode node) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void error(Context ctx, ApiException e) {
        if (e.retryAfterSeconds() > 0) {
            ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        json(ctx, e.status(), e.toJson(JSON));
    }

    /** Javalin's own errors (no route, body too large, ...) in OpenAI's shape. */
    private ApiException fromHttp(HttpResponseException e) {
        return switch (e.getStatus()) {
            case 404 -> new ApiException(404, "invalid_request_error", "not_found", null, e.getMessage(), 0);
            case 405 -> new ApiException(405, "invalid_request_error", "method_not_allowed", null, e.getMessage(), 0);
            case 413 -> new ApiException(413, "invalid_request_error", "request_too_large", null,
                    "the request body is larger than the limit of " + config.maxBodyBytes() + " bytes", 0);
            default -> new ApiException(e.getStatus(), e.getStatus() >= 500 ? "server_error" : "invalid_request_error",
                    null, null, e.getMessage(), 0);
        };
    }

    private static String randomId() {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
