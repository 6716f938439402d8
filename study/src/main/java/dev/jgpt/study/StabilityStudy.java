package dev.jgpt.study;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.Parallel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a {@link StudyPlan}: its runs go concurrently, one per worker thread, with the kernels'
 * own threading set to 1. At width 64 the matrices are too small to split well: two runs side by side
 * used ~30% less CPU time than one run on two kernel threads, for the same work (measured here).
 * Results stream to results.jsonl as runs finish; then report.md, lesion.jsonl (for lesioned runs) and the
 * plots are written.
 */
public final class StabilityStudy {
    /** Hooks for a progress display. */
    public interface Progress {
        default void started(List<RunSpec> runs) {
        }

        /** Called once all runs are done (before the report is written). */
        default void done() {
        }

        default void finished(RunResult r) {
        }

        /** A line for the user, such as what a resumed study reuses. */
        default void message(String line) {
        }

        Progress NONE = new Progress() {
        };
    }

    public record Outcome(List<RunResult> results, Path dir, Path report, List<Claims.Claim> claims, double seconds) {
    }

    private StabilityStudy() {
    }

    public static ObjectMapper mapper() {
        return JsonMapper.builder()
                .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING)
                .enable(DeserializationFeature.READ_ENUMS_USING_TO_STRING)
                .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }

    /**
     * Runs every run of the plan on {@code threads} workers and writes results.jsonl, report.md and plots into dir.
     * When dir already holds a results.jsonl, the runs it has a record of (same spec, same corpus) are reused, not
     * trained again, and only the missing ones run ({@link ResultsFile#resume}); its other records stay in the file and
     * out of the report. Each finished run is appended to results.jsonl and synced at once.
     */
    public static Outcome run(StudyPlan plan, StudyCorpus corpus, Path dir, int threads, Progress progress)
            throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("stability: --threads must be >= 1, got " + threads);
        }
        Files.createDirectories(dir);
        Path jsonl = dir.resolve(ResultsFile.FILE_NAME);
        List<RunSpec> runs = plan.expand();
        ResultsFile.Resume resume = ResultsFile.resume(jsonl, runs, corpus);
        if (Files.exists(jsonl)) {
            progress.message(resume.describe(jsonl, runs.size()));
        }
        List<RunSpec> todo = runs.stream().filter(s -> !resume.reused().containsKey(s)).toList();
        progress.started(todo);
        long t0 = System.nanoTime();
        int previousKernelThreads = Parallel.threads();
        Parallel.setThreads(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jgpt-stability");
            t.setDaemon(true);
            return t;
        });
        List<RunResult> results = new ArrayList<>(resume.reused().values());
        try (ResultsFile out = ResultsFile.append(jsonl)) {
            List<Future<RunResult>> futures = new ArrayList<>();
            for (RunSpec spec : StudyGrid.longestFirst(todo)) {
                futures.add(pool.submit(() -> {
                    RunResult r = StabilityRun.run(spec, corpus);
                    out.add(r);
                    progress.finished(r);
                    return r;
                }));
            }
            for (Future<RunResult> f : futures) {
                results.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("stability study interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException("stability run failed: " + c, c);
        } finally {
            pool.shutdownNow();
            Parallel.setThreads(previousKernelThreads);
            progress.done();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        StudyReport.Header header = new StudyReport.Header(plan.describe(), corpus.name, seconds, threads,
                resume.reused().size());
        AtomicFiles.write(dir.resolve("study.json"), mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(header));
        return report(header, results, dir);
    }

    /**
     * Rewrites report.md and the plots from dir/results.jsonl, or dir/results.jsonl.gz when that is all there is (and
     * the header from dir/study.json when present).
     */
    public static Outcome replot(Path dir) throws IOException {
        Path jsonl = ResultsFile.find(dir);
        if (jsonl == null) {
            throw new IllegalArgumentException("replot: " + dir.resolve(ResultsFile.FILE_NAME) + " not found (nor "
                    + ResultsFile.COMPRESSED_NAME + ")");
        }
        List<RunResult> results = readResults(jsonl);
        Path headerFile = dir.resolve("study.json");
        StudyReport.Header header = Files.isRegularFile(headerFile)
                ? mapper().readValue(headerFile.toFile(), StudyReport.Header.class)
                : new StudyReport.Header("from " + jsonl + " (" + results.size() + " runs)", "(unknown)", 0, 0, 0);
        return report(header, results, dir);
    }

    /** Writes report.md, lesion.jsonl (when runs were lesioned) and the plots for these results. */
    public static Outcome report(StudyReport.Header header, List<RunResult> results, Path dir) throws IOException {
        List<RunResult> ordered = new ArrayList<>(results);
        ordered.sort(StudyReport.ORDER);
        List<LesionLog> lesions = LesionLog.of(ordered);
        if (!lesions.isEmpty()) {
            LesionLog.write(dir, lesions);
        }
        List<Claims.Claim> claims = Claims.evaluate(ordered);
        List<String> plots = StudyPlots.writeAll(ordered, dir);
        Path report = dir.resolve("report.md");
        AtomicFiles.writeString(report, StudyReport.markdown(header, ordered, claims, plots));
        return new Outcome(ordered, dir, report, claims, header.seconds());
    }

    /**
     * Reads a results.jsonl written by {@link #run}: every record, in file order. An incomplete last line (a run cut
     * off mid-write by a kill) is left out with a note on stderr; any other line that is not a record is an error.
     */
    public static List<RunResult> readResults(Path jsonl) throws IOException {
        ResultsFile.Contents c = ResultsFile.read(jsonl);
        if (c.droppedTail() != null) {
            System.err.printf("%s: left out its incomplete last line (%d characters, a run cut off mid-write)%n", jsonl,
                    c.droppedTail().length());
        }
        return c.records();
    }
}
