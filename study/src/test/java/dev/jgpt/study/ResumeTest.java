package dev.jgpt.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A study resumed from the results.jsonl of an interrupted one gives what an uninterrupted study gives. */
class ResumeTest {
    /** 2 layouts × depths 1, 2 × warmup off/on, lesioned, and 2 probes: 10 small runs. */
    private static StudyPlan plan() {
        StudyGrid g = new StudyGrid(List.of(ResidualLayout.PRE_LN, ResidualLayout.POST_LN), List.of(1, 2), List.of(1e-3),
                List.of(false, true), List.of(InitScheme.XAVIER), StudyGrid.seeds(1), List.of(3), 4, 32, 4, 2, 16, 2, 0,
                0.1, List.of(0.0), 2, 0);
        return StudyPlan.of("resume", g);
    }

    private static final class Interrupt extends RuntimeException {
    }

    /** Stops the study (as a kill would) once {@code after} runs have finished and been written. */
    private static StabilityStudy.Progress stopAfter(int after) {
        AtomicInteger done = new AtomicInteger();
        return new StabilityStudy.Progress() {
            @Override
            public void finished(RunResult r) {
                if (done.incrementAndGet() == after) {
                    throw new Interrupt();
                }
            }
        };
    }

    private static final class Messages implements StabilityStudy.Progress {
        final List<String> lines = new ArrayList<>();
        final List<RunSpec> started = new ArrayList<>();

        @Override
        public void started(List<RunSpec> runs) {
            started.addAll(runs);
        }

        @Override
        public void message(String line) {
            lines.add(line);
        }
    }

    /** Each record as JSON without its timing field, keyed by its run's label. */
    private static Map<String, String> withoutTiming(Path jsonl) throws Exception {
        ObjectMapper json = StabilityStudy.mapper();
        Map<String, String> out = new TreeMap<>();
        for (RunResult r : ResultsFile.read(jsonl).records()) {
            RunResult untimed = new RunResult(r.spec(), r.verdict(), r.divergedAtStep(), r.initialLoss(), r.finalTrainLoss(),
                    r.valLoss(), r.unigramEntropy(), r.unigramLoss(), r.atInit(), r.early(), r.lossCurve(),
                    r.gradNormCurve(), r.residualMeanSquareEnd(), r.perturbationEnd(), r.lesion(), r.landscapeInit(),
                    r.landscapeEnd(), 0);
            assertEquals(null, out.put(r.spec().label(), json.writeValueAsString(untimed)), "one record per run");
        }
        return out;
    }

    /** report.md without its wall-time line. */
    private static String reportWithoutTime(Path dir) throws Exception {
        return String.join("\n", Files.readAllLines(dir.resolve("report.md")).stream()
                .filter(l -> !l.contains(" s wall ")).toList());
    }

    @Test
    void anInterruptedThenResumedStudyWritesTheRecordsOfAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        StudyCorpus corpus = StudyTesting.corpus();
        Path whole = tmp.resolve("whole"), resumed = tmp.resolve("resumed");
        StabilityStudy.run(plan(), corpus, whole, 1, StabilityStudy.Progress.NONE);
        int planned = plan().expand().size();

        assertThrows(Interrupt.class, () -> StabilityStudy.run(plan(), corpus, resumed, 1, stopAfter(3)));
        Path jsonl = resumed.resolve(ResultsFile.FILE_NAME);
        int kept = ResultsFile.read(jsonl).records().size();
        assertTrue(kept >= 3 && kept < planned, kept + " runs written before the interruption");
        // a kill in the middle of writing the next record leaves a cut-off last line
        String next = Files.readAllLines(whole.resolve(ResultsFile.FILE_NAME)).get(0);
        Files.writeString(jsonl, next.substring(0, next.length() / 2), StandardOpenOption.APPEND);

        Messages messages = new Messages();
        StabilityStudy.Outcome out = StabilityStudy.run(plan(), corpus, resumed, 2, messages);
        assertEquals(List.of("resuming: " + kept + " of " + planned + " runs already in " + jsonl
                + "; dropped its incomplete last line (" + next.length() / 2 + " characters, a run cut off mid-write), which runs again"),
                messages.lines);
        assertEquals(planned - kept, messages.started.size(), "only the missing runs train");
        assertEquals(planned, out.results().size());
        assertEquals(planned, Files.readAllLines(jsonl).size(), "the cut-off line is gone, every run once");
        assertEquals(withoutTiming(whole.resolve(ResultsFile.FILE_NAME)), withoutTiming(jsonl));
        assertEquals(reportWithoutTime(whole), reportWithoutTime(resumed));
        assertTrue(Files.readString(resumed.resolve("report.md")).contains(kept + " of the runs came from an earlier invocation"));
        assertEquals(Files.readString(whole.resolve(LesionLog.FILE_NAME)), Files.readString(resumed.resolve(LesionLog.FILE_NAME)));

        // run again: everything is there, nothing trains
        Messages again = new Messages();
        StabilityStudy.run(plan(), corpus, resumed, 1, again);
        assertEquals(List.of("resuming: " + planned + " of " + planned + " runs already in " + jsonl), again.lines);
        assertTrue(again.started.isEmpty());
    }

    @Test
    void recordsOutsideThePlanStayInTheFileAndOutOfTheReport(@TempDir Path dir) throws Exception {
        StudyCorpus corpus = StudyTesting.corpus();
        StudyPlan longer = StudyPlan.of("longer", plan().parts().get(0).grid().toBuilder().layouts(List.of(ResidualLayout.PRE_LN))
                .depths(List.of(1)).warmups(List.of(false)).probeDepths(List.of()).steps(5).build());
        StabilityStudy.run(longer, corpus, dir, 1, StabilityStudy.Progress.NONE);
        Messages messages = new Messages();
        StabilityStudy.Outcome out = StabilityStudy.run(plan(), corpus, dir, 2, messages);
        int planned = plan().expand().size();
        assertEquals(List.of("resuming: 0 of " + planned + " runs already in " + dir.resolve(ResultsFile.FILE_NAME)
                + "; 1 other record there (not in this plan, or another corpus) stay in the file and out of the report"),
                messages.lines);
        assertEquals(planned, out.results().size());
        assertTrue(out.results().stream().noneMatch(r -> r.spec().steps() == 5));
        assertEquals(planned + 1, Files.readAllLines(dir.resolve(ResultsFile.FILE_NAME)).size());
    }

    @Test
    void aBrokenLineBeforeTheLastIsAnErrorAndNothingIsTouched(@TempDir Path dir) throws Exception {
        StudyCorpus corpus = StudyTesting.corpus();
        StudyPlan one = StudyPlan.of("one", plan().parts().get(0).grid().toBuilder().layouts(List.of(ResidualLayout.PRE_LN))
                .depths(List.of(1)).probeDepths(List.of()).build());
        StabilityStudy.run(one, corpus, dir, 1, StabilityStudy.Progress.NONE);
        Path jsonl = dir.resolve(ResultsFile.FILE_NAME);
        List<String> lines = Files.readAllLines(jsonl);
        String broken = lines.get(0).substring(0, 40) + "\n" + lines.get(1) + "\n";
        Files.writeString(jsonl, broken);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StabilityStudy.run(one, corpus, dir, 1, StabilityStudy.Progress.NONE));
        assertTrue(e.getMessage().startsWith("results file " + jsonl + ", line 1: not a run record"), e.getMessage());
        assertEquals(broken, Files.readString(jsonl));
    }

    @Test
    void curvesAreStoredAsTheShortestDecimalOfTheirFloatAndReadBackExactly(@TempDir Path dir) throws Exception {
        StudyPlan one = StudyPlan.of("one", plan().parts().get(0).grid().toBuilder().layouts(List.of(ResidualLayout.PRE_LN))
                .depths(List.of(2)).warmups(List.of(false)).probeDepths(List.of()).build());
        StabilityStudy.Outcome out = StabilityStudy.run(one, StudyTesting.corpus(), dir, 1, StabilityStudy.Progress.NONE);
        Path jsonl = dir.resolve(ResultsFile.FILE_NAME);
        JsonNode rec = new ObjectMapper().readTree(Files.readString(jsonl, StandardCharsets.UTF_8));
        for (String curve : List.of("lossCurve", "gradNormCurve")) {
            assertEquals(4, rec.get(curve).size());
            for (JsonNode v : rec.get(curve)) {
                assertEquals(Float.toString(Float.parseFloat(v.asText())), v.asText(), curve);
            }
        }
        RunResult back = ResultsFile.read(jsonl).records().get(0), r = out.results().get(0);
        assertArrayEquals(r.lossCurve(), back.lossCurve());
        assertArrayEquals(r.gradNormCurve(), back.gradNormCurve());
        assertEquals(r.finalTrainLoss(), back.finalTrainLoss(), "figures stay at double precision");
    }
}
