package dev.jgpt.server;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the server listens and what it allows.
 *
 * @param host         address to bind (127.0.0.1 by default: reachable from this machine only)
 * @param port         TCP port; 0 picks a free one
 * @param apiKey       if non-null, every {@code /v1} request needs {@code Authorization: Bearer KEY}
 * @param modelId      the name of the one model served, as {@code /v1/models} lists it
 * @param parallel     sequences that generate together
 * @param maxQueued    requests that may wait for a slot; more are answered 429
 * @param maxBodyBytes larger request bodies are answered 413
 * @param corsOrigins  origins allowed by CORS; empty: no CORS headers at all
 * @param drainTimeout how long a shutdown waits for running requests before ending them with an error
 */
public record ServerConfig(String host, int port, String apiKey, String modelId, int parallel, int maxQueued,
                           long maxBodyBytes, List<String> corsOrigins, Duration drainTimeout) {

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelId, "modelId");
        corsOrigins = List.copyOf(corsOrigins);
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("the API key must not be empty");
        }
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be >= 1, got " + parallel);
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException("queue size must be >= 0, got " + maxQueued);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("the body limit must be >= 1 byte, got " + maxBodyBytes);
        }
    }

    /** Safe defaults: 127.0.0.1:8080, no key, 4 parallel sequences, 64 queued, 1 MB bodies, no CORS, 30 s drain. */
    public static ServerConfig defaults(String modelId) {
        return new ServerConfig("127.0.0.1", 8080, null, modelId, 4, 64, 1_000_000, List.of(), Duration.ofSeconds(30));
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, apiKey, modelId, parallel, maxQueued, maxBodyBytes, corsOrigins, drainTimeout);
    }

    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, key, modelId, parallel, maxQueued, maxBodyBytes, corsOrigins, drainTimeout);
    }

    public ServerConfig withParallel(int n, int queued) {
        return new ServerConfig(host, port, apiKey, modelId, n, queued, maxBodyBytes, corsOrigins, drainTimeout);
    }

    public ServerConfig withMaxBodyBytes(long bytes) {
        return new ServerConfig(host, port, apiKey, modelId, parallel, maxQueued, bytes, corsOrigins, drainTimeout);
    }

    public ServerConfig withCorsOrigins(List<String> origins) {
        return new ServerConfig(host, port, apiKey, modelId, parallel, maxQueued, maxBodyBytes, origins, drainTimeout);
    }

    public ServerConfig withDrainTimeout(Duration d) {
        return new ServerConfig(host, port, apiKey, modelId, parallel, maxQueued, maxBodyBytes, corsOrigins, d);
    }
}
