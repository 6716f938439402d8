package dev.jgpt.cli;

import dev.jgpt.infer.ChatTemplate;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.server.OpenAiServer;
import dev.jgpt.server.ServerConfig;
import dev.jgpt.server.BatchedEngine;
import dev.jgpt.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Serves a model directory or GGUF file over an OpenAI-compatible HTTP API: GET /v1/models, POST /v1/completions, "
                        + "POST /v1/chat/completions (streamed with \"stream\": true), GET /health, GET /metrics "
                        + "(Prometheus).",
                "Up to --parallel requests generate together (continuous batching); more wait in a queue of "
                        + "--queue, and beyond that are answered 429. SIGTERM or Ctrl-C drains: new requests get 503, "
                        + "running ones finish (for at most --drain-timeout), then the server exits with code 0.",
                "Binds 127.0.0.1 unless --host says otherwise; no CORS unless --cors names an origin. The model "
                        + "is the one given here: no request can make the server read another file."
        })
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Model directory (config.json, model.safetensors, tokenizer.json), or a GGUF file (its chat "
                    + "template from tokenizer.chat_template).")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (0.0.0.0: every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1 requests (default: $JGPT_API_KEY if set, else none).")
    String apiKey;

    @Option(names = "--parallel", defaultValue = "4",
            description = "Requests that generate together, each with its own KV cache. Default: ${DEFAULT-VALUE}.")
    int parallel;

    @Option(names = "--queue", defaultValue = "64",
            description = "Requests that may wait for a free slot; more are answered 429. Default: ${DEFAULT-VALUE}.")
    int queue;

    @Option(names = "--ctx", description = "Context length per request, at most the model's (default: the model's).")
    Integer ctx;

    @Option(names = "--max-body", defaultValue = "1000000", paramLabel = "BYTES",
            description = "Larger request bodies are answered 413. Default: ${DEFAULT-VALUE}.")
    long maxBody;

    @Option(names = "--cors", paramLabel = "ORIGIN",
            description = "Allow browser requests from ORIGIN (e.g. http://localhost:3000); repeatable. Default: none.")
    List<String> cors = new ArrayList<>();

    @Option(names = "--drain-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "On shutdown, how long running requests may finish before they end with an error. "
                    + "Default: ${DEFAULT-VALUE}.")
    double drainTimeout;

    @Option(names = "--name", description = "The model's id in the API (default: the directory's name).")
    String name;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        if (ModelFiles.isGguf(model) ? !Files.isRegularFile(model) : !Files.isDirectory(model)) {
            throw new NoSuchFileException(model + (ModelFiles.isGguf(model) ? ": no such GGUF file" : ": no such model directory"));
        }
        if (!(drainTimeout >= 0) || Double.isInfinite(drainTimeout)) {
            throw new IllegalArgumentException("--drain-timeout must be a number of seconds >= 0, got " + drainTimeout);
        }
        String key = apiKey != null ? apiKey : System.getenv("JGPT_API_KEY");
        String id = name != null ? name : model.toAbsolutePath().normalize().getFileName().toString();
        ServerConfig config;   // every option is checked before the (possibly slow) model load
        try {
            config = new ServerConfig(host, port, key, id, parallel, queue, maxBody, cors,
                    Duration.ofMillis((long) (drainTimeout * 1000)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad option: " + e.getMessage());
        }
        if (ctx != null && ctx < 1) {
            throw new IllegalArgumentException("--ctx must be >= 1, got " + ctx);
        }
        Parallel.setThreads(threads.resolve());
        ModelFiles files = ModelFiles.load(model);
        GPT gpt = files.gpt();
        int context = ctx != null ? ctx : gpt.config.blockSize();
        if (context > gpt.config.blockSize()) {
            throw new IllegalArgumentException("--ctx " + ctx + " exceeds the model's context of " + gpt.config.blockSize());
        }
        ChatTemplate chat = null;
        String chatUnavailable = null;
        try {
            chat = ChatTemplate.of(ModelFiles.tokenizerConfig(model));
        } catch (ChatTemplate.UnsupportedChatTemplateException e) {
            chatUnavailable = e.getMessage();
            System.err.println("jgpt serve: warning: " + e.getMessage() + "; /v1/chat/completions answers 501");
        }
        try (files; Tokenizer tokenizer = files.tokenizer()) {
            OpenAiServer server = OpenAiServer.start(config, new BatchedEngine(gpt, context), tokenizer, chat, chatUnavailable,
                    ModelFiles.generationConfig(model));
            // The server counts as stopped inside drainAndStop, so the main thread could return (and the JVM exit)
            // before the drain thread has said so: the main thread waits for that line too.
            CountDownLatch reported = new CountDownLatch(1);
            AtomicBoolean draining = new AtomicBoolean();
            Runnable drain = () -> Thread.ofPlatform().name("jgpt-drain").start(() -> {
                draining.set(true);
                System.err.println("jgpt serve: draining: no new requests; waiting for " + server.scheduler().running()
                        + " running and " + server.scheduler().queued() + " queued");
                try {
                    boolean clean = server.drainAndStop();
                    System.err.println("jgpt serve: stopped" + (clean ? "" : " (requests still running were ended with an error)"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    reported.countDown();
                }
            });
            Signal.handle(new Signal("TERM"), s -> drain.run());
            Signal.handle(new Signal("INT"), s -> drain.run());
            System.out.printf(Locale.ROOT, "jgpt serve: %s (%,d parameters, context %d) on %s%n", id, gpt.parameterCount(),
                    context, server.baseUrl());
            System.out.printf(Locale.ROOT, "  parallel %d, queue %d, chat %s, API key %s, CORS %s; "
                            + "Ctrl-C or SIGTERM drains and stops%n", parallel, queue,
                    chat != null ? chat.name() + " template" : "unavailable", key != null ? "required" : "off",
                    cors.isEmpty() ? "off" : String.join(" ", cors));
            System.out.flush();
            server.awaitStopped();
            if (draining.get()) {
                reported.await(10, TimeUnit.SECONDS);
            }
        }
        return 0;
    }
}
