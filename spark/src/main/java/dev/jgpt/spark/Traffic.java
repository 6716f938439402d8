package dev.jgpt.spark;

import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes that cross between driver and workers: the broadcasts the engines send (counted once per worker,
 * as if each worker were its own executor fetching them from the driver), the task results Spark
 * measures (serialized gradients, deltas), and shuffle bytes (treeAggregate's intermediate levels).
 * Spark delivers task metrics asynchronously: read the totals after the jobs of interest have settled.
 */
public final class Traffic extends SparkListener {
    private final AtomicLong broadcast = new AtomicLong(), results = new AtomicLong(), shuffle = new AtomicLong();

    void broadcast(long bytes, int receivers) {
        broadcast.addAndGet(bytes * receivers);
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        TaskMetrics m = end.taskMetrics();
        if (m != null) {
            results.addAndGet(m.resultSize());
            shuffle.addAndGet(m.shuffleWriteMetrics().bytesWritten());
        }
    }

    /** Driver → workers: broadcast weights (and re-rooted DiLoCo states). */
    public long broadcastBytes() {
        return broadcast.get();
    }

    /** Workers → driver: serialized task results, as Spark measured them. */
    public long resultBytes() {
        return results.get();
    }

    /** Between workers: shuffle bytes written (treeAggregate's levels below the driver, if any). */
    public long shuffleBytes() {
        return shuffle.get();
    }

    public long totalBytes() {
        return broadcastBytes() + resultBytes() + shuffleBytes();
    }
}
