package dev.jgpt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.infer.ChatMessage;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.JinjaChatTemplate;
import dev.jgpt.infer.TokenListener;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.TokenizerConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(180)
class ServeCommandTest {
    static final CharTokenizer CHARS = CharTokenizer.fromText("to be, or not to be: that is the question.\nROMEO:");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path modelDir;

    @BeforeAll
    static void saveModel() throws Exception {
        modelDir = tmp.resolve("baby");
        // a longer context than the other CLI tests, so a stream is still running when SIGTERM arrives
        ModelDir.save(new GPT(GPTConfig.of(CHARS.vocabSize(), 512, 2, 2, 32).withInit(InitScheme.XAVIER), 5), modelDir);
        CHARS.save(modelDir.resolve("tokenizer.json"));
    }

    @Test
    void badOptionsAreOneLineErrorsBeforeTheModelLoads() throws Exception {
        assertTrue(CliRun.run("serve", "--model", tmp.resolve("missing").toString()).failedWith("no such model directory"));
        Path gguf = Files.writeString(tmp.resolve("m.gguf"), "GGUF");
        assertTrue(CliRun.run("serve", "--model", gguf.toString()).failedWith(gguf.toString()), "a truncated GGUF file");
        assertTrue(CliRun.run("serve", "--model", tmp.resolve("none.gguf").toString()).failedWith("none.gguf: no such GGUF file"));
        assertTrue(CliRun.run("serve", "--model", modelDir.toString(), "--port", "70000").failedWith("port must be in 0..65535"));
        assertTrue(CliRun.run("serve", "--model", modelDir.toString(), "--parallel", "0").failedWith("parallel must be >= 1"));
        assertTrue(CliRun.run("serve", "--model", modelDir.toString(), "--ctx", "513").failedWith("exceeds the model's context of 512"));
        assertTrue(CliRun.run("serve", "--model", modelDir.toString(), "--drain-timeout", "-1").failedWith("--drain-timeout"));
    }

    /** A GGUF file (exported with a chat template) serves chat completions rendered with its tokenizer.chat_template. */
    @Test
    void aGgufFileServesChatThroughItsTemplate() throws Exception {
        Path dir = tmp.resolve("chatty");
        ModelDir.save(new GPT(GPTConfig.of(ChatCommandTest.CHARS.vocabSize(), 128, 2, 2, 16).withInit(InitScheme.XAVIER), 3), dir);
        ChatCommandTest.CHARS.save(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve(TokenizerConfig.FILE_NAME), JSON.createObjectNode()
                .put("chat_template", ChatCommandTest.CHATML).toString());
        Path gguf = tmp.resolve("chatty.gguf");
        CliRun export = CliRun.run("export", "--model", dir.toString(), "--type", "f32", "--out", gguf.toString());
        assertEquals(0, export.exit(), export.err());

        JinjaChatTemplate template = JinjaChatTemplate.of(TokenizerConfig.load(dir)).orElseThrow();
        String prompt = template.render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hello")));
        GenerationResult alone = new Generator(ModelDir.load(dir), ChatCommandTest.CHARS).generate(prompt,
                GenerationOptions.greedy(8), TokenListener.NONE);

        Process p = startServe(gguf, "chatty.err");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine(), second = out.readLine();
            assertTrue(first != null && first.startsWith("jgpt serve: chatty.gguf ("), first + "\n" + stderr("chatty.err"));
            assertTrue(second != null && second.contains("chat chatty.gguf template"), second);
            String base = first.substring(first.indexOf(" on ") + 4).strip();
            String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 8, \"temperature\": 0}";
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode json = JSON.readTree(r.body());
            assertEquals(ChatCommandTest.CHARS.encode(prompt).length, json.get("usage").get("prompt_tokens").asInt(), prompt);
            assertEquals(alone.text(), json.get("choices").get(0).get("message").get("content").asText());
        } finally {
            p.destroyForcibly();
        }
    }

    static Process startServe(Path model, String stderrFile) throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--model", model.toString(), "--port", "0", "--parallel", "2")
                .redirectError(tmp.resolve(stderrFile).toFile()).start();
    }

    /** A real SIGTERM to a child JVM: the stream in flight completes, new connections fail, exit code 0. */
    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        Process p = startServe(modelDir, "serve.err");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("jgpt serve: baby ("), first + "\n" + stderr());
            String base = first.substring(first.indexOf(" on ") + 4).strip();
            assertTrue(base.startsWith("http://127.0.0.1:"), base);

            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> models = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("baby", JSON.readTree(models.body()).get("data").get(0).get("id").asText());

            String body = "{\"prompt\": \"ROMEO:\", \"max_tokens\": 500, \"temperature\": 0, \"stream\": true}";
            HttpResponse<Stream<String>> stream = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, stream.statusCode());
            Iterator<String> lines = stream.body().iterator();
            List<String> events = new ArrayList<>();
            while (events.isEmpty() && lines.hasNext()) {
                String line = lines.next();
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                }
            }
            p.destroy();   // SIGTERM, with a stream in flight
            lines.forEachRemaining(line -> {
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                }
            });
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server did not exit within 60 s of SIGTERM");
            assertEquals(0, p.exitValue(), stderr());
            assertEquals("[DONE]", events.get(events.size() - 1), "the stream was cut: " + events.size() + " events");
            JsonNode last = JSON.readTree(events.get(events.size() - 2));
            assertEquals("length", last.get("choices").get(0).get("finish_reason").asText());
            assertTrue(stderr().contains("draining") && stderr().contains("stopped"), stderr());
            assertTrue(client.sendAsync(HttpRequest.newBuilder(URI.create(base + "/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())
                    .handle((r, e) -> e != null).get(), "the port still answers after exit");
        } finally {
            p.destroyForcibly();
        }
    }

    static String stderr() {
        return stderr("serve.err");
    }

    static String stderr(String file) {
        try {
            return Files.readString(tmp.resolve(file));
        } catch (java.io.IOException e) {
            return "(no stderr: " + e + ")";
        }
    }
}
