package dev.jgpt.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per evaluation (step, train_loss, val_loss, lr, grad_norm,
 * tokens_per_s, elapsed_s), appended as the run goes.
 */
public final class MetricsLog {
    public static final String FILE_NAME = "metrics.jsonl";
    static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * One evaluation. {@code lr}, {@code gradNorm} and {@code stepLoss} belong to the optimizer step just
     * before it (NaN at step 0); {@code tokensPerS} is training throughput since the previous evaluation.
     */
    public record Point(int step, double trainLoss, double valLoss, double lr, double gradNorm,
                        double stepLoss, double tokensPerS, double elapsedS) {

        ObjectNode toJson() {
            ObjectNode o = MAPPER.createObjectNode();
            o.put("step", step);
            put(o, "train_loss", trainLoss);
            put(o, "val_loss", valLoss);
            put(o, "lr", lr);
            put(o, "grad_norm", gradNorm);
            put(o, "step_loss", stepLoss);
            put(o, "tokens_per_s", tokensPerS);
            put(o, "elapsed_s", elapsedS);
            return o;
        }

        /** JSON has no NaN: undefined values are written as null. */
        private static void put(ObjectNode o, String key, double v) {
            if (Double.isFinite(v)) {
                o.put(key, v);
            } else {
                o.putNull(key);
            }
        }

        static Point fromJson(JsonNode o) {
            return new Point(o.path("step").asInt(), num(o, "train_loss"), num(o, "val_loss"), num(o, "lr"),
                    num(o, "grad_norm"), num(o, "step_loss"), num(o, "tokens_per_s"), num(o, "elapsed_s"));
        }

        private static double num(JsonNode o, String key) {
            JsonNode v = o.get(key);
            return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
        }
    }

    private final Path file;

    public MetricsLog(Path dir) {
        this.file = dir.resolve(FILE_NAME);
    }

    public Path file() {
        return file;
    }

    /** Appends one line and flushes it to disk (a killed run keeps every line written so far). */
    public void append(Point p) {
        byte[] line = (p.toJson().toString() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            Files.write(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE, StandardOpenOption.DSYNC);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file + ": " + IoErrors.reason(e), e);
        }
    }

    /** Every point in the file (an empty list if there is none); a torn last line (a kill mid-write) is skipped. */
    public List<Point> read() {
        List<Point> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode o;
                try {
                    o = MAPPER.readTree(line);
                } catch (IOException torn) {
                    continue;
                }
                if (o != null && o.isObject() && o.has("step")) {
                    out.add(Point.fromJson(o));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        return out;
    }

    /**
     * Keeps only points up to {@code step} (a resumed run repeats the steps after its checkpoint, so
     * their old lines go); rewrites the file atomically.
     */
    public void truncateAfter(int step) {
        List<Point> keep = new ArrayList<>();
        for (Point p : read()) {
            if (p.step() <= step) {
                keep.add(p);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Point p : keep) {
            sb.append(p.toJson()).append('\n');
        }
        try {
            AtomicFiles.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file + ": " + IoErrors.reason(e), e);
        }
    }
}
