package dev.jgpt.study;

import dev.jgpt.common.SharedData;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Shared fixtures: tiny Shakespeare from ../shared (jgpt.shared) and small run specs. */
final class StudyTesting {
    private static StudyCorpus corpus;

    private StudyTesting() {
    }

    static synchronized StudyCorpus corpus() {
        if (corpus == null) {
            try {
                corpus = StudyCorpus.of("tinyshakespeare.txt", Files.readString(SharedData.shakespeare()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return corpus;
    }

    /** Width 64, 4 heads (the study's setting), a small batch of 4 × 32 tokens, AdamW lr 1e-3, no warmup. */
    static RunSpec spec(ResidualLayout layout, int depth, InitScheme init, long seed, int steps) {
        return new RunSpec(layout, depth, 1e-3, false, init, seed, steps, 64, 4, 4, 32, 0, 0, 0.1, 0.9, 0.99, 0, 0, 0);
    }

    static RunResult run(ResidualLayout layout, int depth, InitScheme init, long seed, int steps) {
        return StabilityRun.run(spec(layout, depth, init, seed, steps), corpus());
    }
}
