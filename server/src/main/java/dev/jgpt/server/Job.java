package dev.jgpt.server;

import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.StopReason;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One generation request as the {@link Scheduler} sees it: the prompt's tokens and how to
 * generate, and the events it produces, which the HTTP side takes one by one (streaming them, or
 * collecting them for one answer). Queued at first, then running in a slot, then finished.
 */
public final class Job {
    /** What a job tells its client. */
    public sealed interface Event permits Text, Finished, Failed {
    }

    /** Text that one or more new tokens released (never empty). */
    public record Text(String text) implements Event {
    }

    /**
     * The job ended normally.
     *
     * @param reason           why it ended
     * @param text             the whole generated text (what the {@link Text} events added up to)
     * @param promptTokens     tokens of the prompt
     * @param completionTokens tokens generated (an end-of-text token that ended it included)
     */
    public record Finished(StopReason reason, String text, int promptTokens, int completionTokens) implements Event {
    }

    /** The job could not finish: the server is shutting down, or the model failed. */
    public record Failed(String message) implements Event {
    }

    final int[] prompt;
    final GenerationOptions options;
    final long submittedNanos = System.nanoTime();
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    Job(int[] prompt, GenerationOptions options) {
        this.prompt = prompt;
        this.options = options;
    }

    /** The next event, waiting at most {@code timeout}; null if none came in time. */
    public Event poll(long timeout, TimeUnit unit) throws InterruptedException {
        return events.poll(timeout, unit);
    }

    /** The next event, waiting as long as it takes. */
    public Event take() throws InterruptedException {
        return events.take();
    }

    /**
     * The client is gone: the scheduler drops the job before its next step (freeing its slot), or
     * before it starts if it is still queued. It sends no more events.
     */
    public void cancel() {
        cancelled = true;
    }

    boolean isCancelled() {
        return cancelled;
    }

    void emit(Event e) {
        events.add(e);
    }
}
