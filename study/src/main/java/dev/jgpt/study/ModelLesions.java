package dev.jgpt.study;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.TokenSequence;
import dev.jgpt.model.Evaluation;
import dev.jgpt.model.GPT;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainState;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code jgpt lesion}: the lesions of one model directory ({@link Lesions}) on its validation tokens, written as
 * lesion.jsonl, report.md and PNG + SVG plots.
 *
 * <p>The tokens are {@link EvaluationData}'s (by default the model's own validation split). The unigram reference
 * is their cross-entropy under the training split's token frequencies (add-one smoothed, as the study's), or, for
 * a lone .bin file, the entropy of its own frequencies.
 */
public final class ModelLesions {
    /** What was measured and where it was written. */
    public record Outcome(LesionLog record, String data, long tokens, String referenceKind, Path report, List<String> plots) {
    }

    private ModelLesions() {
    }

    /**
     * Lesions {@code modelDir} on {@code data} (or its own validation split), over at most {@code maxTokens}
     * validation tokens, {@code draws} subsets per k, and writes the results into {@code out}.
     */
    public static Outcome run(Path modelDir, Optional<Path> data, long maxTokens, int draws, long seed, Path out,
                              Lesions.Progress progress) throws IOException {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("--tokens must be at least 2, got " + maxTokens);
        }
        if (draws < 1) {
            throw new IllegalArgumentException("--draws must be at least 1, got " + draws);
        }
        EvaluationData.checkDirectories(modelDir, out);
        Optional<TrainState> state = TrainState.readFrom(modelDir);
        GPT model = ModelDir.load(modelDir);
        if (model.blocks().size() > Lesions.MAX_BLOCKS) {
            throw new IllegalArgumentException("lesion: at most " + Lesions.MAX_BLOCKS + " blocks, " + modelDir + " has "
                    + model.blocks().size());
        }
        try (EvaluationData tokens = EvaluationData.of(modelDir, data)) {
            int V = model.config.vocabSize();
            TokenSequence eval = first(tokens.eval(), maxTokens);
            double reference = tokens.fit() != null ? Unigram.crossEntropy(tokens.fit(), eval, V) : Unigram.entropy(eval, V);
            Files.createDirectories(out);
            Lesions.Result result = Lesions.measure(model, m -> Evaluation.meanLoss(m, eval).loss(), reference, draws, seed,
                    progress);
            double layerDrop = state.map(s -> s.config().layerDrop()).orElse(0.0);
            LesionLog record = new LesionLog(modelDir.toString(), model.config.layout(), model.blocks().size(), layerDrop,
                    null, null, result);
            LesionLog.write(out, List.of(record));
            List<String> plots = new ArrayList<>();
            List<LesionPlots.Curve> curve = List.of(new LesionPlots.Curve(model.config.layout().id() + " L"
                    + model.blocks().size(), new Color(0x1F77B4), false, List.of(result)));
            String name = modelDir.getFileName() == null ? modelDir.toString() : modelDir.getFileName().toString();
            LesionPlots.singleDeletions("Deleting one block of " + name, curve).write(out, "lesion-single");
            plots.add("lesion-single");
            LesionPlots.lossVsK("Deleting k random blocks of " + name, curve).write(out, "lesion-vs-k");
            plots.add("lesion-vs-k");
            String referenceKind = tokens.fit() != null ? "validation tokens under the training split's token frequencies (add-one)"
                    : "entropy of the evaluated tokens' own frequencies";
            Path report = out.resolve("report.md");
            AtomicFiles.writeString(report, markdown(record, model, tokens.description(), eval.size(), referenceKind,
                    draws, seed, state.map(TrainState::config).orElse(null), plots));
            return new Outcome(record, tokens.description(), eval.size(), referenceKind, report, plots);
        }
    }

    /** The first n tokens of a sequence (all of them when it is shorter). */
    static TokenSequence first(TokenSequence s, long n) {
        long size = Math.min(n, s.size());
        return new TokenSequence() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public void read(long start, int[] dst, int off, int count) {
                if (start + count > size) {
                    throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + count) + ") of " + size);
                }
                s.read(start, dst, off, count);
            }
        };
    }

    private static String markdown(LesionLog record, GPT model, String data, long tokens, String referenceKind, int draws,
                                   long seed, TrainConfig trained, List<String> plots) {
        Lesions.Result r = record.lesion();
        StringBuilder md = new StringBuilder("# Lesions of " + record.model() + "\n\n");
        md.append(String.format(Locale.ROOT, "- Model: %s, %d blocks, width %d, %,d parameters%s.%n", model.config.layout().id(),
                record.depth(), model.config.nEmbd(), model.parameterCount(),
                trained == null ? "" : String.format(Locale.ROOT, ", trained with LayerDrop %s", StudyGrid.lr(trained.layerDrop()))));
        md.append(String.format(Locale.ROOT, "- Data: %s, the first %,d tokens.%n", data, tokens));
        md.append(String.format(Locale.ROOT, "- Loss with every block %.4f nats; unigram loss %.4f (%s); the model is %.4f nats below it.%n",
                r.loss(), r.reference(), referenceKind, r.reference() - r.loss()));
        md.append(String.format(Locale.ROOT, "- k random blocks: every k-subset when there are at most %d, else %d random ones in a balanced design: windows of k consecutive blocks around a random order of the blocks (seed %d).%n%n",
                draws, draws, seed));
        md.append(Lesions.DEFINITION).append("\n\n## Deleting one block\n\n| block | loss | increase (nats) | damage |\n|---|---|---|---|\n");
        for (int l = 0; l < r.depth(); l++) {
            md.append(String.format(Locale.ROOT, "| %d | %.4f | %+.4f | %s |%n", l + 1, r.single()[l], r.single()[l] - r.loss(),
                    LesionClaims.percent(r.relative(r.single()[l]))));
        }
        md.append("\n## Deleting k random blocks\n\n| k | subsets | mean loss | sd | min | max | damage of the mean |\n|---|---|---|---|---|---|---|\n");
        for (Lesions.Deletions d : r.byK()) {
            md.append(String.format(Locale.ROOT, "| %d | %d | %.4f | %.4f | %.4f | %.4f | %s |%n", d.k(), d.losses().length,
                    d.mean(), d.sd(), d.min(), d.max(), LesionClaims.percent(r.relative(d.mean()))));
        }
        md.append("\n## Plots\n\nEach as PNG and SVG.\n\n");
        for (String p : plots) {
            md.append("![").append(p).append("](").append(p).append(".png)\n\n");
        }
        return md.toString();
    }
}
