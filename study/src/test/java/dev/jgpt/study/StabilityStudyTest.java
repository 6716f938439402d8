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
                List.of(1e-3), List.of(false, true), inits, StudyGrid.seeds(1), List.of(3), 4, 32, 4, 2, 16, 2, 0, 0.1);
    }

    @Test
    void everyRecordCarriesItsFullConfigIncludingTheInitAndBothInitsAreReported(@TempDir Path dir) throws Exception {
        StabilityStudy.Outcome out = StabilityStudy.run(tiny(List.of(InitScheme.GPT2, InitScheme.XAVIER)),
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
        StudyGrid quick = StudyGrid.preset("quick");
        // 6 layouts × 3 depths × 2 inits × 3 seeds training runs; probes at 4, 8, 16, 32
        assertEquals(108 + 6 * 4 * 2 * 3, quick.expand().size());
        assertEquals(108, quick.expand().stream().filter(r -> !r.probeOnly()).count());
        StudyGrid paper = StudyGrid.preset("paper");
        assertEquals(6 * 4 * 3 * 2 * 2 * 3, paper.expand().stream().filter(r -> !r.probeOnly()).count());
        assertTrue(paper.depths().contains(24) && paper.probeDepths().contains(32));
        assertEquals(Set.of(InitScheme.GPT2, InitScheme.XAVIER), Set.copyOf(paper.inits()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StudyGrid.preset("huge"));
        assertTrue(e.getMessage().contains("quick or paper"));
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
