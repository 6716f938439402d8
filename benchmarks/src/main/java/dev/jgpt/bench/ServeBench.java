package dev.jgpt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.Simd;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.server.OpenAiServer;
import dev.jgpt.server.ServerConfig;
import dev.jgpt.server.BatchedEngine;
import dev.jgpt.infer.PlainChatTemplate;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Serving speed over real HTTP on 127.0.0.1: {@code c} clients stream greedy completions at once
 * from an in-process {@code jgpt serve} with {@code --parallel c}, for c = 1, 4, 16, on random-weight
 * models of the baby shape (L4 H4 d128, context 64, char tokenizer of tiny Shakespeare) and of GPT-2
 * 124M's shape (with GPT-2's tokenizer). Reported per level:
 * <ul>
 *   <li><b>aggregate tok/s</b>: completion tokens of all requests / wall time from the first request
 *       sent to the last answer received (what the server delivers to everyone together);</li>
 *   <li><b>TTFT p50 / p95</b>: time from sending a request to receiving its first text chunk,
 *       queueing and prefill included;</li>
 *   <li><b>tok/CPU-s</b>: completion tokens per second of this process's CPU time, the figure that
 *       still compares levels when the machine is shared.</li>
 * </ul>
 * Each level first runs its concurrent pattern once unmeasured (JIT, buffers, connections). A
 * benchmark, not a test: run it on a quiet machine, and read a level against the 1-stream level
 * of the same run. Needs {@code ../shared/data} (tiny Shakespeare, GPT-2's tokenizer.json), or
 * {@code -Djgpt.shared=DIR}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx6g -cp benchmarks/target/benchmarks.jar dev.jgpt.bench.ServeBench \
 *     [--models baby,gpt2] [--levels 1,4,16] [--rounds 2] [--out benchmarks/results/serve.json]
 * </pre>
 */
public final class ServeBench {
    static final ObjectMapper JSON = new ObjectMapper();

    record Level(String model, int streams, int requests, long tokens, double seconds, double tokensPerSecond,
                 double ttftP50Ms, double ttftP95Ms, double cpuSeconds, double tokensPerCpuSecond) {
    }

    record Answer(long ttftNanos, int tokens) {
    }

    public static void main(String[] args) throws Exception {
        List<String> models = List.of("baby", "gpt2");
        int[] levels = {1, 4, 16};
        int rounds = 2;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> models = List.of(args[++i].split(","));
                case "--levels" -> levels = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("ServeBench: error: unknown argument " + args[i]
                            + " (--models baby,gpt2 --levels 1,4,16 --rounds N --out FILE)");
                    System.exit(2);
                }
            }
        }
        Path shared = Path.of(System.getProperty("jgpt.shared", "../shared")).resolve("data");
        List<Level> results = new ArrayList<>();
        for (String model : models) {
            results.addAll(run(model, shared, levels, rounds));
        }
        if (out != null) {
            ObjectNode root = JSON.createObjectNode().put("machine", Simd.describe() + ", "
                    + Runtime.getRuntime().availableProcessors() + " cores").put("engine", "BatchedEngine");
            ArrayNode rows = root.putArray("levels");
            for (Level l : results) {
                rows.add(JSON.valueToTree(l));
            }
            AtomicFiles.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            System.out.println("wrote " + out);
        }
    }

    static List<Level> run(String model, Path shared, int[] levels, int rounds) throws Exception {
        GPTConfig cfg;
        Tokenizer tokenizer;
        String prompt;
        int maxTokens;
        if (model.equals("baby")) {
            Path text = require(shared.resolve("tinyshakespeare.txt"));
            tokenizer = CharTokenizer.fromText(Files.readString(text, StandardCharsets.UTF_8));
            cfg = GPTConfig.of(tokenizer.vocabSize(), 64, 4, 4, 128);
            prompt = "ROMEO:\nWhat light";   // 17 tokens
            maxTokens = 40;
        } else if (model.equals("gpt2")) {
            tokenizer = Tokenizers.load(require(shared.resolve("gpt2/tokenizer.json")));
            cfg = GPTConfig.gpt2Small();
            prompt = "The quick brown fox jumps over the lazy dog, and then it";   // 13 tokens
            maxTokens = 32;
        } else {
            throw new IllegalArgumentException("unknown model " + model + " (baby or gpt2)");
        }
        GPT gpt = new GPT(cfg, 1);
        System.out.printf(Locale.ROOT, "%s: random weights, %,d parameters, context %d%n", model,
                gpt.parameterCount(), cfg.blockSize());
        List<Level> out = new ArrayList<>();
        System.out.println("streams  requests  tokens  seconds  aggregate tok/s  TTFT p50 ms  TTFT p95 ms  CPU s  tok/CPU-s");
        for (int streams : levels) {
            ServerConfig config = ServerConfig.defaults(model).withPort(0).withParallel(streams, streams);
            OpenAiServer server = OpenAiServer.start(config, new BatchedEngine(gpt, cfg.blockSize()), tokenizer,
                    PlainChatTemplate.INSTANCE, null);
            try {
                HttpClient client = HttpClient.newHttpClient();
                ExecutorService clients = Executors.newFixedThreadPool(streams);
                // warm-up, unmeasured: the same concurrent pattern once (JIT, buffers, connections)
                List<Future<Answer>> warm = new ArrayList<>();
                for (int c = 0; c < streams; c++) {
                    warm.add(clients.submit(() -> ask(client, server.baseUrl(), prompt, maxTokens)));
                }
                for (Future<Answer> f : warm) {
                    f.get();
                }
                List<Future<List<Answer>>> futures = new ArrayList<>();
                int roundsPerClient = rounds;
                long t0 = System.nanoTime(), cpu0 = processCpuNanos();
                for (int c = 0; c < streams; c++) {
                    futures.add(clients.submit(() -> {
                        List<Answer> answers = new ArrayList<>();
                        for (int r = 0; r < roundsPerClient; r++) {
                            answers.add(ask(client, server.baseUrl(), prompt, maxTokens));
                        }
                        return answers;
                    }));
                }
                List<Answer> all = new ArrayList<>();
                for (Future<List<Answer>> f : futures) {
                    all.addAll(f.get());
                }
                double seconds = (System.nanoTime() - t0) / 1e9, cpuSeconds = (processCpuNanos() - cpu0) / 1e9;
                clients.shutdown();
                long tokens = all.stream().mapToLong(Answer::tokens).sum();
                double[] ttft = all.stream().mapToDouble(a -> a.ttftNanos() / 1e6).sorted().toArray();
                Level l = new Level(model, streams, all.size(), tokens, seconds, tokens / seconds,
                        percentile(ttft, 0.5), percentile(ttft, 0.95), cpuSeconds, tokens / cpuSeconds);
                out.add(l);
                System.out.printf(Locale.ROOT, "%7d  %8d  %6d  %7.2f  %15.1f  %11.1f  %11.1f  %5.1f  %9.1f%n", streams,
                        l.requests(), tokens, seconds, l.tokensPerSecond(), l.ttftP50Ms(), l.ttftP95Ms(), cpuSeconds,
                        l.tokensPerCpuSecond());
            } finally {
                server.drainAndStop();
            }
        }
        return out;
    }

    /**
     * CPU time of this whole process (server, engine and the in-process clients): tokens per CPU-second
     * compares the levels fairly when other work shares the machine, where wall-clock rates do not.
     */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** One streamed greedy completion: time to its first text chunk, and its completion tokens. */
    static Answer ask(HttpClient client, String base, String prompt, int maxTokens) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        long t0 = System.nanoTime();
        HttpResponse<Stream<String>> r = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode());
        }
        long ttft = -1;
        int tokens = -1;
        for (Iterator<String> it = r.body().iterator(); it.hasNext(); ) {
            String line = it.next();
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                continue;
            }
            JsonNode chunk = JSON.readTree(line.substring(6));
            if (chunk.get("error") != null) {
                throw new IOException("error event: " + chunk);
            }
            if (ttft < 0 && !chunk.get("choices").isEmpty() && !chunk.get("choices").get(0).get("text").asText().isEmpty()) {
                ttft = System.nanoTime() - t0;
            }
            if (chunk.hasNonNull("usage")) {
                tokens = chunk.get("usage").get("completion_tokens").asInt();
            }
        }
        if (tokens < 0) {
            throw new IOException("the stream had no usage chunk");
        }
        return new Answer(ttft < 0 ? System.nanoTime() - t0 : ttft, tokens);
    }

    static double percentile(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static Path require(Path file) throws NoSuchFileException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file + ": missing (ServeBench reads the shared data; set -Djgpt.shared=DIR)");
        }
        return file;
    }
}
