package dev.jgpt.server;

import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine whose steps wait for the test's permission, so a test can hold requests mid-generation
 * and know exactly how many steps ran, without sleeping.
 */
final class GatedEngine implements BatchEngine, AutoCloseable {
    private final BatchEngine inner;
    private final Semaphore permits = new Semaphore(0);
    private final Semaphore entered = new Semaphore(0);
    private final AtomicInteger completed = new AtomicInteger();
    private final List<Integer> batchSizes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean open;
    private volatile RuntimeException failNext;

    GatedEngine(BatchEngine inner) {
        this.inner = inner;
    }

    @Override
    public int contextLength() {
        return inner.contextLength();
    }

    @Override
    public int vocabSize() {
        return inner.vocabSize();
    }

    @Override
    public Sequence newSequence() {
        return inner.newSequence();
    }

    @Override
    public float[][] step(List<Sequence> sequences, List<int[]> tokens) {
        batchSizes.add(sequences.size());
        entered.release();
        if (!open) {
            permits.acquireUninterruptibly();
        }
        RuntimeException failure = failNext;
        if (failure != null) {
            failNext = null;
            completed.incrementAndGet();
            throw failure;
        }
        try {
            return inner.step(sequences, tokens);
        } finally {
            completed.incrementAndGet();
        }
    }

    /** Lets {@code n} more steps run. */
    void allow(int n) {
        permits.release(n);
    }

    /** Lets every step run from now on. */
    void open() {
        open = true;
        permits.release(1_000_000);
    }

    /** Opens the gate, so a scheduler still stepping can finish and be closed. */
    @Override
    public void close() {
        open();
    }

    /** Waits until {@code n} more steps have begun (each then waits for a permit), at most 30 s. */
    void awaitEntered(int n) throws InterruptedException {
        if (!entered.tryAcquire(n, 30, TimeUnit.SECONDS)) {
            throw new AssertionError("the scheduler did not begin " + n + " more steps within 30 s");
        }
    }

    /** The next step throws {@code e} instead of running. */
    void failNextStep(RuntimeException e) {
        failNext = e;
    }

    /** How many sequences each step had, in order. */
    List<Integer> batchSizes() {
        return List.copyOf(batchSizes);
    }

    int completedSteps() {
        return completed.get();
    }
}
