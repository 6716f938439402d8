package dev.jgpt.study;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.model.ResidualLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * lesion.jsonl: one JSON line per lesioned model, written by {@code jgpt lesion} and by the study.
 *
 * @param model     the model directory, or the study run's label
 * @param spec      the study run's configuration; null for a model directory
 * @param verdict   the study run's verdict; null for a model directory
 * @param layerDrop the LayerDrop rate the model trained with (0 when not known)
 */
public record LesionLog(String model, ResidualLayout layout, int depth, double layerDrop, RunSpec spec, String verdict,
                        Lesions.Result lesion) {
    public static final String FILE_NAME = "lesion.jsonl";

    /** The lesioned runs of a study, in the order given. */
    static List<LesionLog> of(List<RunResult> results) {
        return results.stream().filter(r -> r.lesion() != null).map(r -> new LesionLog(r.spec().label(), r.spec().layout(),
                r.spec().depth(), r.spec().layerDrop(), r.spec(), r.verdict(), r.lesion())).toList();
    }

    /** Writes dir/lesion.jsonl atomically. */
    static void write(Path dir, List<LesionLog> records) throws IOException {
        ObjectMapper json = StabilityStudy.mapper();
        StringBuilder sb = new StringBuilder();
        for (LesionLog r : records) {
            try {
                sb.append(json.writeValueAsString(r)).append('\n');
            } catch (JsonProcessingException e) {
                throw new IOException("lesion.jsonl: cannot write the record of " + r.model() + ": " + e.getMessage(), e);
            }
        }
        AtomicFiles.writeString(dir.resolve(FILE_NAME), sb.toString());
    }
}
