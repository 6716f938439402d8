package dev.jgpt.server;

import dev.jgpt.infer.Continuation;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.StopReason;
import dev.jgpt.infer.Token;
import dev.jgpt.tokenizer.Tokenizer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: up to {@code parallel} sequences generate together, one
 * {@link BatchEngine#step} per round over all of them; queued requests join between steps as
 * slots free up, and a finished or cancelled sequence leaves at once. Each slot keeps its
 * sequence's KV cache (made once, at start) and its {@link Continuation} (sampler, detokeniser,
 * stop strings), so sequences never see each other's state: a request's greedy output is the
 * same alone or beside others as long as the engine's logits are.
 *
 * <p>One thread runs the steps; {@link #submit}, {@link #drain} and {@link #close} may be called
 * from any thread.
 */
public final class Scheduler implements AutoCloseable {
    /** Why a request was not queued. */
    public enum Rejection { QUEUE_FULL, SHUTTING_DOWN }

    /** A request the scheduler would not take. */
    public static final class RejectedException extends Exception {
        private final Rejection reason;

        RejectedException(Rejection reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Rejection reason() {
            return reason;
        }
    }

    private final BatchEngine engine;
    private final Tokenizer tokenizer;
    private final int vocab;            // ids a sequence may sample: known to both model and tokenizer
    private final Slot[] slots;
    private final int maxQueued;
    private final ServerMetrics metrics;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    private final Condition becameIdle = lock.newCondition();
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();   // guarded by lock
    private int running;                // slots holding a job; guarded by lock
    private boolean accepting = true;   // guarded by lock
    private String abortMessage;        // non-null: fail every job at the next round; guarded by lock
    private boolean closed;             // guarded by lock

    /**
     * @param parallel  sequences that generate together (each gets a KV cache now)
     * @param maxQueued requests that may wait for a slot beyond those running; more are rejected
     */
    public Scheduler(BatchEngine engine, Tokenizer tokenizer, int parallel, int maxQueued, ServerMetrics metrics) {
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be >= 1, got " + parallel);
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException("queue size must be >= 0, got " + maxQueued);
        }
        if (tokenizer.vocabSize() > engine.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocabulary is " + engine.vocabSize());
        }
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.vocab = tokenizer.vocabSize();
        this.maxQueued = maxQueued;
        this.metrics = metrics;
        this.slots = new Slot[parallel];
        for (int i = 0; i < parallel; i++) {
            slots[i] = new Slot(engine.newSequence());
        }
        metrics.bindScheduler(this);
        thread = new Thread(this::run, "jgpt-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Positions a sequence can hold: a prompt may have at most this many tokens. */
    public int contextLength() {
        return engine.contextLength();
    }

    public int parallel() {
        return slots.length;
    }

    /** Requests waiting for a slot. */
    public int queued() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sequences generating now. */
    public int running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    /** False once {@link #drain} began. */
    public boolean isAccepting() {
        lock.lock();
        try {
            return accepting;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a generation of {@code prompt} (1..{@link #contextLength()} token ids).
     *
     * @throws RejectedException        if the queue is full or the scheduler is draining
     * @throws IllegalArgumentException if the prompt is empty, too long or holds an unknown id
     */
    public Job submit(int[] prompt, GenerationOptions options) throws RejectedException {
        if (prompt.length == 0 || prompt.length > engine.contextLength()) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens; it must be 1.."
                    + engine.contextLength());
        }
        for (int id : prompt) {
            if (id < 0 || id >= engine.vocabSize()) {
                throw new IllegalArgumentException("prompt token " + id + " is outside the vocabulary of " + engine.vocabSize());
            }
        }
        if (options.overflow() != GenerationOptions.Overflow.STOP) {
            throw new IllegalArgumentException("the server stops at the end of the context; it does not slide");
        }
        Job job = new Job(prompt.clone(), options);
        lock.lock();
        try {
            if (!accepting) {
                throw new RejectedException(Rejection.SHUTTING_DOWN, "the server is shutting down");
            }
            dropCancelled();
            if (waiting.size() >= maxQueued + (slots.length - running)) {
                throw new RejectedException(Rejection.QUEUE_FULL, "the server is busy: " + running
                        + " requests running and " + waiting.size() + " queued (at most " + maxQueued + ")");
            }
            waiting.add(job);
            workArrived.signal();
        } finally {
            lock.unlock();
        }
        return job;
    }

    /**
     * Stops taking requests and waits until every queued and running one has finished, at most
     * {@code timeout}; then ends those left with a {@link Job.Failed} event.
     *
     * @return true if everything finished in time
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            accepting = false;
            while (!isIdle()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    abortMessage = "the server is shutting down";
                    workArrived.signal();
                    while (!isIdle() && !closed) {
                        becameIdle.await(1, TimeUnit.SECONDS);
                    }
                    return false;
                }
                becameIdle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean isIdle() {
        return waiting.isEmpty() && running == 0;
    }

    /** Stops the stepping thread; jobs still queued or running end with a {@link Job.Failed} event. */
    @Override
    public void close() throws InterruptedException {
        lock.lock();
        try {
            accepting = false;
            closed = true;
            workArrived.signal();
        } finally {
            lock.unlock();
        }
        thread.join();
        lock.lock();
        try {   // the thread is gone: its slots can be touched from here
            for (Slot s : slots) {
                if (s.job != null) {
                    s.fail("the server stopped");
                }
            }
            failWaiting("the server stopped");
            becameIdle.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        List<Slot> stepping = new ArrayList<>(slots.length);
        List<BatchEngine.Sequence> sequences = new ArrayList<>(slots.length);
        List<int[]> feeds = new ArrayList<>(slots.length);
        while (true) {
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        return;
                    }
                    if (abortMessage != null) {
                        for (Slot s : slots) {
                            if (s.job != null) {
                                s.fail(abortMessage);
                            }
                        }
                        failWaiting(abortMessage);
                        abortMessage = null;
                    }
                    admit();
                    if (running > 0) {
                        break;
                    }
                    becameIdle.signalAll();
                    workArrived.awaitUninterruptibly();
                }
            } finally {
                lock.unlock();
            }
            stepping.clear();
            sequences.clear();
            feeds.clear();
            for (Slot s : slots) {
                if (s.job == null) {
                    continue;
                }
                if (s.job.isCancelled()) {
                    s.finish(StopReason.CANCELLED);   // the client is gone: free the slot before stepping it
                    continue;
                }
                stepping.add(s);
                sequences.add(s.sequence);
                feeds.add(s.feed);
            }
            if (stepping.isEmpty()) {
                continue;
            }
            long t0 = System.nanoTime();
            float[][] logits;
            try {
                logits = engine.step(sequences, feeds);
            } catch (RuntimeException e) {
                for (Slot s : stepping) {
                    s.fail("the model failed: " + e.getMessage());
                }
                continue;
            }
            for (int i = 0; i < stepping.size(); i++) {
                Slot s = stepping.get(i);
                try {
                    s.accept(logits[i]);
                } catch (RuntimeException e) {
                    s.fail("generation failed: " + e.getMessage());
                }
            }
            metrics.recordStep(stepping.size(), System.nanoTime() - t0);
        }
    }

    /** Moves queued jobs into free slots; drops queued jobs whose client is gone. Holds the lock. */
    private void admit() {
        for (Slot s : slots) {
            if (waiting.isEmpty()) {
                return;
            }
            if (s.job == null) {
                dropCancelled();
                Job job = waiting.poll();
                if (job == null) {
                    return;
                }
                s.begin(job);
                running++;
            }
        }
    }

    /** Forgets queued jobs whose client is gone. Holds the lock. */
    private void dropCancelled() {
        waiting.removeIf(j -> {
            if (j.isCancelled()) {
                metrics.recordFinished(j.prompt.length, StopReason.CANCELLED);
                return true;
            }
            return false;
        });
    }

    private void failWaiting(String message) {
        for (Job j : waiting) {
            j.emit(new Job.Failed(message));
        }
        waiting.clear();
    }

    /** One sequence's place in the batch; touched only by the stepping thread (and by close after it). */
    private final class Slot {
        final BatchEngine.Sequence sequence;
        Job job;
        Continuation continuation;
        int[] history = new int[64];   // the tokens in the cache, for the repetition penalty
        int historySize;
        int[] feed;                    // what the next step appends: the prompt, then the last token

        Slot(BatchEngine.Sequence sequence) {
            this.sequence = sequence;
        }

        void begin(Job job) {
            sequence.reset();
            this.job = job;
            this.continuation = new Continuation(tokenizer, vocab, job.options);
            this.historySize = 0;
            this.feed = job.prompt;
        }

        /** Takes the logits that follow {@link #feed}: samples the next token and tells the client. */
        void accept(float[] logits) {
            if (historySize + feed.length > history.length) {
                history = Arrays.copyOf(history, Math.max(2 * history.length, historySize + feed.length));
            }
            System.arraycopy(feed, 0, history, historySize, feed.length);
            historySize += feed.length;
            boolean contextFull = sequence.position() >= engine.contextLength();
            Token t = continuation.next(logits, history, historySize, contextFull);
            if (t.index() == 0) {
                metrics.recordFirstToken(System.nanoTime() - job.submittedNanos);
            }
            if (!t.text().isEmpty()) {
                job.emit(new Job.Text(t.text()));
            }
            if (continuation.isDone()) {
                finish(continuation.reason());
            } else {
                feed = new int[] {t.id()};
            }
        }

        void finish(StopReason reason) {
            Job done = job;
            Continuation c = continuation;
            c.cancel();   // no-op unless the reason is CANCELLED
            metrics.recordFinished(done.prompt.length, reason);
            release();    // first, so a client that has its answer can send the next request at once
            if (reason != StopReason.CANCELLED) {
                done.emit(new Job.Finished(reason, c.text(), done.prompt.length, c.generated()));
            }
        }

        void fail(String message) {
            Job failed = job;
            metrics.recordFailed();
            release();
            failed.emit(new Job.Failed(message));
        }

        private void release() {
            job = null;
            continuation = null;
            feed = null;
            lock.lock();
            try {
                running--;
                if (isIdle()) {
                    becameIdle.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
