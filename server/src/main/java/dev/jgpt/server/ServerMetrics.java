package dev.jgpt.server;

import dev.jgpt.infer.StopReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Locale;

/**
 * The server's metrics, in Prometheus text format at {@code /metrics}: requests by endpoint and
 * status, prompt and generated tokens, queue depth, running sequences, aggregate decode tokens/s
 * over the last seconds, time to first token and request duration (with p50/p95), and the batch
 * size of each step.
 */
public final class ServerMetrics {
    /** Seconds the tokens/s gauge averages over. */
    static final int RATE_WINDOW_SECONDS = 5;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter promptTokens = Counter.builder("jgpt.prompt.tokens")
            .description("Prompt tokens of requests that finished").register(registry);
    private final Counter generatedTokens = Counter.builder("jgpt.generated.tokens")
            .description("Tokens generated").register(registry);
    private final Counter failed = Counter.builder("jgpt.generations.failed")
            .description("Generations ended by an error (model failure or shutdown)").register(registry);
    private final Timer timeToFirstToken = Timer.builder("jgpt.time.to.first.token")
            .description("From a request's arrival in the queue to its first generated token")
            .publishPercentiles(0.5, 0.95).register(registry);
    private final Timer stepDuration = Timer.builder("jgpt.step.duration")
            .description("One batched step: the forward over all running sequences and their sampling")
            .register(registry);
    private final DistributionSummary batchSize = DistributionSummary.builder("jgpt.step.sequences")
            .description("Sequences in each batched step").register(registry);
    // tokens generated per whole second, in a ring of RATE_WINDOW_SECONDS + 1 buckets
    private final long[] bucketSecond = new long[RATE_WINDOW_SECONDS + 1];
    private final long[] bucketTokens = new long[RATE_WINDOW_SECONDS + 1];

    public ServerMetrics() {
        Gauge.builder("jgpt.decode.tokens.per.second", this, m -> m.tokensPerSecond(System.nanoTime()))
                .description("Tokens generated per second over the last " + RATE_WINDOW_SECONDS + " s, all sequences together")
                .register(registry);
    }

    void bindScheduler(Scheduler scheduler) {
        Gauge.builder("jgpt.queue.depth", scheduler, Scheduler::queued)
                .description("Requests waiting for a slot").register(registry);
        Gauge.builder("jgpt.sequences.running", scheduler, Scheduler::running)
                .description("Sequences generating now").register(registry);
        Gauge.builder("jgpt.sequences.max", scheduler, Scheduler::parallel)
                .description("Sequences that can generate together (--parallel)").register(registry);
    }

    /** A request answered with {@code status} (an error answered before generating included). */
    public void recordRequest(String endpoint, int status, Duration duration) {
        Timer.builder("jgpt.requests").description("HTTP requests by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status))
                .publishPercentiles(0.5, 0.95)
                .register(registry).record(duration);
    }

    void recordFirstToken(long nanosSinceArrival) {
        timeToFirstToken.record(Duration.ofNanos(nanosSinceArrival));
    }

    void recordStep(int sequences, long nanos) {
        batchSize.record(sequences);
        stepDuration.record(Duration.ofNanos(nanos));
        synchronized (bucketSecond) {
            long second = System.nanoTime() / 1_000_000_000L;
            int b = (int) (second % bucketSecond.length);
            if (bucketSecond[b] != second) {
                bucketSecond[b] = second;
                bucketTokens[b] = 0;
            }
            bucketTokens[b] += sequences;   // every stepped sequence sampled one token
        }
        generatedTokens.increment(sequences);
    }

    void recordFinished(int prompt, StopReason reason) {
        promptTokens.increment(prompt);
        Counter.builder("jgpt.generations").description("Generations by how they ended")
                .tag("reason", reason.label().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    void recordFailed() {
        failed.increment();
    }

    /** Tokens generated over the last whole seconds of the window, per second. */
    double tokensPerSecond(long nowNanos) {
        long now = nowNanos / 1_000_000_000L;
        long sum = 0;
        synchronized (bucketSecond) {
            for (int b = 0; b < bucketSecond.length; b++) {
                if (bucketSecond[b] < now && bucketSecond[b] >= now - RATE_WINDOW_SECONDS) {
                    sum += bucketTokens[b];
                }
            }
        }
        return (double) sum / RATE_WINDOW_SECONDS;
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }
}
