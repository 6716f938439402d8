package dev.jgpt.cli;

import dev.jgpt.study.EvaluationData;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The options of every command that measures a trained model on data into an output directory ({@code landscape},
 * {@code lesion}): the model, the data ({@link EvaluationData}), the output directory and the threads.
 */
final class MeasuredModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (e.g. a jgpt train --out).")
    Path model;

    @Option(names = "--data", paramLabel = "PATH", description = "A text file or a directory made by jgpt prepare (its "
            + "validation split is used: the last 10% of a text), or a .bin token file (read from its start). Default: "
            + "the validation split of the data the model was trained on (named in DIR/train_state/).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory.")
    Path out;

    @Mixin
    ThreadsOption threads;   // kernel threads

    Optional<Path> data() {
        return Optional.ofNullable(data);
    }

    /** The model directory exists and --out is not a file; returns the kernel threads to use. */
    int check() throws NoSuchFileException {
        EvaluationData.checkDirectories(model, out);
        return threads.resolve();
    }
}
