package dev.jgpt.server;

import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine whose steps wait for the test's permission, so a test can hold requests mid-generation
 * and know exactly how many steps ran, without sleeping.
 */
final class GatedEngine implements BatchEngine {
    private final BatchEngine inner;
    private final Semaphore permits = new Semaphore(0);
    private final Semaphore entered = new Semaphore(0);
    private final AtomicInteger completed = new AtomicInteger();
    private volatile boolean open;

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
        entered.release();
        if (!open) {
            permits.acquireUninterruptibly();
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

    /** Waits until {@code n} more steps have begun (each then waits for a permit), at most 30 s. */
    void awaitEntered(int n) throws InterruptedException {
        if (!entered.tryAcquire(n, 30, TimeUnit.SECONDS)) {
            throw new AssertionError("the scheduler did not begin " + n + " more steps within 30 s");
        }
    }

    int completedSteps() {
        return completed.get();
    }
}
