package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The large empirical effect, with the init pinned to Xavier and 3 seeds: at 12 layers, lr 1e-3 and no
 * warmup, post-LN stays stuck at the unigram loss while pre-LN trains. Reduced from the CLI's setting
 * (batch 8 × 64 tokens, 200 steps) to batch 4 × 32 and 250 steps to stay fast; the gap is still
 * ~0.5 nats (post-LN 3.35 = the unigram loss on all seeds, pre-LN 2.8–2.9). Runs through the study itself,
 * so the grid, the concurrency and the claims table are exercised too.
 */
class EmpiricalStabilityTest {
    @Test
    @Tag("slow") // trains for seconds: -DexcludedGroups=slow leaves it out
    void postLnStuckPreLnTrainsAt12LayersWithXavierInit(@TempDir Path dir) throws Exception {
        StudyGrid grid = new StudyGrid(List.of(ResidualLayout.POST_LN, ResidualLayout.PRE_LN), List.of(12), List.of(1e-3),
                List.of(false), List.of(InitScheme.XAVIER), StudyGrid.seeds(3), List.of(), 250, 64, 4, 4, 32, 0, 0, 0.1, List.of(0.0), 0, 0);
        StabilityStudy.Outcome out = StabilityStudy.run(StudyPlan.of("L12", grid), StudyTesting.corpus(), dir, 2, StabilityStudy.Progress.NONE);
        assertEquals(6, out.results().size());
        for (RunResult r : out.results()) {
            if (r.spec().layout() == ResidualLayout.POST_LN) {
                assertEquals(RunResult.STUCK, r.verdict(), r.spec().label() + " val " + r.valLoss());
                assertEquals(r.unigramLoss(), r.valLoss(), 0.05, "stuck at the unigram loss");
            } else {
                assertEquals(RunResult.TRAINED, r.verdict(), r.spec().label() + " val " + r.valLoss());
                assertTrue(r.valLoss() < r.unigramLoss() - 0.35, r.spec().label() + " val " + r.valLoss());
            }
        }
        Claims.Claim ref = out.claims().stream().filter(c -> c.id().equals("ref-xavier-L12")).findFirst().orElseThrow();
        assertEquals(Claims.Status.REPRODUCED, ref.status(), ref.measured());
    }
}
