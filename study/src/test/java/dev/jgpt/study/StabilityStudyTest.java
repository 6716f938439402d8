package dev.jgpt.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The study's pipeline on a tiny grid: records, both inits, report, plots, presets. */
class StabilityStudyTest {
    static StudyGrid tiny(List<InitScheme> inits) {
        return new StudyGrid(List.of(ResidualLayout.POST_LN, ResidualLayout.PRE_LN, ResidualLayout.REZERO), List.of(1, 2),
                List.of(1e-3), List.of(false, true), inits, StudyGrid.seeds(1), List.of(3), 4, 32, 4, 2, 16, 2, 0, 0.1, List.of(0.0), 0, 0);
    }

    @Test
    void everyRecordCarriesItsFullConfigIncludingTheInitAndBothInitsAreReported(@TempDir Path dir) throws Exception {
        StabilityStudy.Outcome out = StabilityStudy.run(StudyPlan.of("tiny", tiny(List.of(InitScheme.GPT2, InitScheme.XAVIER))),
                StudyTesting.corpus(), dir, 2, StabilityStudy.Progress.NONE);
        // 3 layouts × 2 depths × 2 warmups × 2 inits training runs + 3 layouts × 1 probe depth × 2 inits
        assertEquals(24 + 6, out.results().size());
        ObjectMapper json = new ObjectMapper();
        Set<String> inits = new HashSet<>();
        List<String> lines = Files.readAllLines(dir.resolve("results.jsonl"));
        assertEquals(30, lines.size());
        for (String line : lines) {
            JsonNode spec = json.readTree(line).get("spec");
            for (String field : List.of("layout", "depth", "lr", "warmup", "init", "seed", "steps", "width", "heads", "batch",
                    "seqLen", "warmupSteps", "clip", "weightDecay")) {
                assertTrue(spec.has(field), "spec lacks " + field + ": " + line);
            }
            inits.add(spec.get("init").asText());
            JsonNode rec = json.readTree(line);
            assertTrue(rec.get("atInit").get("gradients").get("ffnOut").isArray());
            assertTrue(Set.of("trained", "slow", "stuck", "diverged", "probe").contains(rec.get("verdict").asText()));
        }
        assertEquals(Set.of("gpt2", "xavier"), inits);
        List<RunResult> back = StabilityStudy.readResults(dir.resolve("results.jsonl"));
        assertEquals(30, back.size());
        assertEquals(out.results().size(), back.stream().map(RunResult::spec).distinct().count());

        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("## Claims"));
        assertTrue(report.contains("**init gpt2**") && report.contains("**init xavier**"), "both inits in the report");
        for (Claims.Claim c : out.claims()) {
            assertTrue(report.contains(c.claim()), "claims table lists " + c.id());
        }
        for (String plot : List.of("grad-vs-layer-gpt2", "grad-vs-layer-xavier", "last-layer-grad-vs-depth-xavier",
                "residual-vs-layer-xavier", "loss-curves-gpt2", "loss-curves-xavier", "pass-fail")) {
            for (String ext : List.of(".png", ".svg")) {
                Path f = dir.resolve(plot + ext);
                assertTrue(Files.size(f) > 1000, f + " written");
            }
            assertTrue(report.contains("(" + plot + ".png)"), "report links " + plot);
        }
        assertTrue(Files.readString(dir.resolve("pass-fail.svg")).contains("<svg"));
    }

    @Test
    void presetsExpandToTheDocumentedGrids() {
        StudyPlan quick = StudyPlan.preset("quick");
        List<RunSpec> core = quick.parts().get(0).grid().expand();
        // 6 layouts × 3 depths × 2 inits × 3 seeds training runs; probes at 4, 8, 16, 32
        assertEquals(108 + 6 * 4 * 2 * 3, core.size());
        assertEquals(108, core.stream().filter(r -> !r.probeOnly()).count());
        assertTrue(quick.expand().stream().anyMatch(r -> r.lesionDraws() > 0 && r.layerDrop() > 0), "quick lesions with LayerDrop");
        StudyPlan paper = StudyPlan.preset("paper");
        StudyGrid paperCore = paper.parts().get(0).grid();
        assertEquals(List.of(2, 6, 12, 24), paperCore.depths());
        assertEquals(List.of(1e-4, 5e-4, 1e-3), paperCore.lrs());
        assertEquals(List.of(false, true), paperCore.warmups());
        assertTrue(paperCore.probeDepths().contains(32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.preset("huge"));
        assertTrue(e.getMessage().contains("quick or paper"));
    }

    @Test
    void aRunTwoPartsAskForTrainsOnceWithItsLesions() {
        StudyGrid a = tiny(List.of(InitScheme.XAVIER));
        StudyGrid b = a.toBuilder().lesionDraws(3).probeDepths(List.of()).build();
        StudyPlan plan = new StudyPlan("two", List.of(new StudyPlan.Part("a", a), new StudyPlan.Part("b", b)));
        List<RunSpec> runs = plan.expand();
        assertEquals(a.expand().size(), runs.size(), "b's runs are a's runs with lesions");
        assertTrue(runs.stream().filter(r -> !r.probeOnly()).allMatch(r -> r.lesionDraws() == 3));
        assertTrue(runs.stream().filter(RunSpec::probeOnly).allMatch(r -> r.lesionDraws() == 0));
        StudyPlan changed = plan.map(g -> g.seeds(StudyGrid.seeds(2)));
        assertEquals(2 * a.expand().size(), changed.expand().size(), "an axis given on the command line changes every part");
    }

    @Test
    void regimesGetTheirOwnClaimRowsAndLesionedRunsTheirOwnLog(@TempDir Path dir) throws Exception {
        StudyGrid four = tiny(List.of(InitScheme.XAVIER)).toBuilder().probeDepths(List.of()).build();
        StudyGrid five = four.toBuilder().steps(5).layerDrops(List.of(0.0, 0.5)).lesionDraws(2).build();
        StudyPlan plan = new StudyPlan("regimes", List.of(new StudyPlan.Part("four", four), new StudyPlan.Part("five", five)));
        StabilityStudy.Outcome out = StabilityStudy.run(plan, StudyTesting.corpus(), dir, 2, StabilityStudy.Progress.NONE);
        // 3 layouts × 2 depths × 2 warmups: once at 4 steps, twice (LayerDrop 0 and 0.5) at 5 steps
        assertEquals(12 * 3, out.results().size());
        Set<String> ids = new HashSet<>();
        out.claims().forEach(c -> ids.add(c.id()));
        // post-LN ran with warmup off and on in both regimes: the warmup claim is measured in each, LayerDrop's apart
        assertTrue(ids.containsAll(List.of("warmup@4 steps", "warmup@5 steps")), ids.toString());
        assertTrue(ids.stream().noneMatch(id -> id.contains("layer drop")), ids.toString());
        assertTrue(ids.containsAll(List.of("lesion-pre-ln", "lesion-none", "lesion-k", "lesion-layer-drop")), ids.toString());
        List<String> lesions = Files.readAllLines(dir.resolve("lesion.jsonl"));
        assertEquals(24, lesions.size(), "every run of the five-step part is lesioned");
        JsonNode rec = new ObjectMapper().readTree(lesions.get(0));
        assertEquals(5, rec.get("spec").get("steps").asInt());
        assertEquals(rec.get("depth").asInt(), rec.get("lesion").get("single").size());
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("## Lesions") && report.contains("| pre-ln | 2 | 0.5 |"), report);
        assertTrue(report.contains("**init xavier, 4 steps**") && report.contains("**init xavier, 5 steps, layer drop 0.5**"), report);
        assertTrue(report.contains("- Grid, in parts"), report);
        for (String table : List.of("pass-fail-4-steps", "pass-fail-5-steps", "pass-fail-5-steps-layer-drop-0.5")) {
            assertTrue(Files.size(dir.resolve(table + ".png")) > 1000 && report.contains("(" + table + ".png)"), table);
        }
        // --replot reads it all back and writes the same report
        StabilityStudy.replot(dir);
        assertEquals(report, Files.readString(dir.resolve("report.md")));
        // ... and so from the compressed file alone (how a large grid is committed)
        Path jsonl = dir.resolve(ResultsFile.FILE_NAME), gz = dir.resolve(ResultsFile.COMPRESSED_NAME);
        try (var zip = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            zip.write(Files.readAllBytes(jsonl));
        }
        Files.delete(jsonl);
        Files.delete(dir.resolve("report.md"));
        StabilityStudy.replot(dir);
        assertEquals(report, Files.readString(dir.resolve("report.md")));
        byte[] whole = Files.readAllBytes(gz);
        Files.write(gz, java.util.Arrays.copyOf(whole, whole.length / 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StabilityStudy.replot(dir));
        assertTrue(e.getMessage().contains(gz.toString()) && e.getMessage().contains("gzip"), e.getMessage());
    }

    @Test
    void verdictsAreMeasuredAgainstTheUnigramLoss() {
        double u = 3.35;
        assertEquals(RunResult.TRAINED, StabilityRun.verdict(null, 2.9, u));
        assertEquals(RunResult.SLOW, StabilityRun.verdict(null, 3.2, u));
        assertEquals(RunResult.STUCK, StabilityRun.verdict(null, 3.33, u));
        assertEquals(RunResult.STUCK, StabilityRun.verdict(null, 3.6, u));
        assertEquals(RunResult.DIVERGED, StabilityRun.verdict(17, 2.0, u));
        assertEquals(RunResult.DIVERGED, StabilityRun.verdict(null, Double.NaN, u));
        StudyCorpus c = StudyTesting.corpus();
        assertEquals(65, c.vocabSize);
        assertEquals(3.3, c.unigramEntropy, 0.05, "tiny Shakespeare's character entropy");
        assertTrue(c.unigramLoss > c.unigramEntropy - 0.1);
    }
}
