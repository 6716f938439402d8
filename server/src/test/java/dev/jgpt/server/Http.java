package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A small HTTP client for the tests: JSON in, status + JSON or server-sent events out. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private String apiKey;

    Http(String base) {
        this.base = base;
    }

    Http withKey(String key) {
        Http h = new Http(base);
        h.apiKey = key;
        return h;
    }

    record Response(int status, HttpResponse<String> raw) {
        JsonNode json() throws IOException {
            return JSON.readTree(raw.body());
        }

        String body() {
            return raw.body();
        }

        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        /** The {@code data:} payloads of a server-sent event stream, in order. */
        List<String> events() {
            List<String> out = new ArrayList<>();
            for (String block : raw.body().split("\n\n")) {
                for (String line : block.split("\n")) {
                    if (line.startsWith("data: ")) {
                        out.add(line.substring(6));
                    } else if (!line.isEmpty() && !line.startsWith(":")) {
                        throw new AssertionError("not an SSE line: " + line);
                    }
                }
            }
            return out;
        }
    }

    Response get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    Response post(String path, String body) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    Response post(String path, JsonNode body) throws IOException, InterruptedException {
        return post(path, JSON.writeValueAsString(body));
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    private Response send(HttpRequest r) throws IOException, InterruptedException {
        HttpResponse<String> res = client.send(r, HttpResponse.BodyHandlers.ofString());
        return new Response(res.statusCode(), res);
    }
}
