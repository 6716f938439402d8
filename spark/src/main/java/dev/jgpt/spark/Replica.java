package dev.jgpt.spark;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.Param;
import dev.jgpt.train.Batcher;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainStep;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A worker's copy of the model on an executor, with its batches and optimiser ({@link TrainStep}). Tasks
 * borrow one and give it back: building a GPT (buffers and all) per task would cost more than a small step.
 * Nothing carries over between tasks: each sets the weights, moments and step count it starts from, so a
 * replica's history never shows in a result. The token files stay open for the executor's life.
 */
final class Replica {
    private static final Map<WorkerSpec, Queue<Replica>> IDLE = new ConcurrentHashMap<>();
    private static final Map<String, HadoopTokenFile> FILES = new ConcurrentHashMap<>();

    final WorkerSpec spec;
    final TrainConfig config;
    final List<Param> params;
    final TrainStep step;

    private Replica(WorkerSpec spec) {
        this.spec = spec;
        this.config = spec.config();
        GPT model = GPT.uninitialized(config.modelConfig(spec.vocabSize()));
        this.params = model.parameters();
        Batcher batcher = new Batcher(file(spec.trainUri()), file(spec.valUri()), config.batchSize(),
                config.blockSize(), config.seed());
        this.step = new TrainStep(model, config, batcher, TrainStep.optimizer(model, config));
    }

    static Replica borrow(WorkerSpec spec) {
        Parallel.setThreads(spec.threads());
        Replica r = IDLE.computeIfAbsent(spec, s -> new ConcurrentLinkedQueue<>()).poll();
        return r != null ? r : new Replica(spec);
    }

    void release() {
        IDLE.get(spec).add(this);
    }

    private static HadoopTokenFile file(String uri) {
        return FILES.computeIfAbsent(uri, u -> {
            try {
                return HadoopTokenFile.open(u, new Configuration());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the token file " + u + " on this executor: " + e.getMessage(), e);
            }
        });
    }
}
