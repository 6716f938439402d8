package dev.jgpt.study;

import dev.jgpt.common.TokenSequence;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.tokenizer.TokenFile;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.TrainState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The tokens a model directory is measured on ({@code jgpt landscape}, {@code jgpt lesion}) and what owns their
 * memory (a mapped token file or loaded training data), closed together.
 *
 * <p>With no data given: the validation split of the data the model was trained on, as its train_state/ names it.
 * A text file or a prepared directory: its validation split (a text is tokenised with the model's own tokenizer and
 * split as training splits it, the last 10% validating). A .bin token file: the whole file, from its start.
 *
 * @param eval        the tokens to measure on
 * @param fit         the training split beside them, or null when there is none (a lone .bin file)
 * @param description what the tokens are, for reports
 */
public record EvaluationData(TokenSequence eval, TokenSequence fit, String description, AutoCloseable owner)
        implements AutoCloseable {

    /** The tokens to measure {@code modelDir} on, given {@code data} or not (see the class comment). */
    public static EvaluationData of(Path modelDir, Optional<Path> data) throws IOException {
        if (data.isEmpty()) {
            TrainConfig c = TrainState.readFrom(modelDir).map(TrainState::config).orElseThrow(() -> new IllegalArgumentException(
                    "--data is needed: " + modelDir + " holds no train_state/ naming the data it was trained on"));
            TrainData d = TrainData.load(c.data(), c.tokenizer());
            return new EvaluationData(d.val, d.train, "the validation split of its training data, " + d.source, d);
        }
        Path path = data.get();
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path + ": no such data file or directory");
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".bin") && Files.isRegularFile(path)) {
            TokenFile f = TokenFile.open(path);
            return new EvaluationData(f, null, path.toAbsolutePath().normalize() + " (the whole file, from its start)", f);
        }
        TrainData d = TrainData.load(path.toString(), Files.isDirectory(path) ? null
                : modelDir.resolve(ModelDir.TOKENIZER).toString());
        return new EvaluationData(d.val, d.train, "the validation split of " + d.source, d);
    }

    /**
     * The checks every command that measures a model directory into an output directory makes before reading
     * anything: the model directory exists and {@code out} is not a file.
     */
    public static void checkDirectories(Path modelDir, Path out) throws NoSuchFileException {
        if (!Files.isDirectory(modelDir)) {
            throw new NoSuchFileException(modelDir + ": no such model directory");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            owner.close();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
