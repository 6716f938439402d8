package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static dev.jgpt.model.ResidualLayout.HIGHWAY;
import static dev.jgpt.model.ResidualLayout.NONE;
import static dev.jgpt.model.ResidualLayout.PRE_LN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stability study's landscape phase: what it measures, that it leaves training alone, and its claims. */
class LandscapePhaseTest {
    @Test
    void theLandscapePhaseMeasuresAtInitAndAfterTrainingAndLeavesTrainingAsItWas() {
        RunSpec plain = StudyTesting.spec(ResidualLayout.PRE_LN, 2, InitScheme.XAVIER, 3, 12);
        RunSpec measured = plain.withPhases(0, 3);
        RunResult a = StabilityRun.run(plain, StudyTesting.corpus()), b = StabilityRun.run(measured, StudyTesting.corpus());
        assertNull(a.landscapeInit());
        assertNull(a.landscapeEnd());
        assertArrayEquals(a.lossCurve(), b.lossCurve(), "the phase at init restores the weights bit for bit");
        assertEquals(a.finalTrainLoss(), b.finalTrainLoss());
        assertEquals(a.valLoss(), b.valLoss());
        for (ModelLandscape.Result l : List.of(b.landscapeInit(), b.landscapeEnd())) {
            assertEquals(StabilityRun.LANDSCAPE_POINTS, l.line().losses().length);
            assertEquals(l.loss(), l.line().losses()[StabilityRun.LANDSCAPE_POINTS / 2], 1e-6, "α = 0 is the weights");
            assertTrue(l.hessian().max().value() >= l.hessian().min().value(), l.hessian().toString());
            assertTrue(l.hessian().max().iterations() <= 3 && l.hessian().max().iterations() >= 1);
            assertEquals(2, l.steps().relativeUpdate().length);
        }
        assertEquals(b.atInit().loss(), b.landscapeInit().loss(), 1e-6, "at init, on the probe batch");
        assertTrue(b.landscapeEnd().loss() < b.landscapeInit().loss() - 0.1, "trained: " + b.landscapeEnd().loss());
        assertNull(StabilityRun.run(StudyTesting.spec(ResidualLayout.PRE_LN, 2, InitScheme.XAVIER, 3, 0).withPhases(0, 3),
                StudyTesting.corpus()).landscapeInit(), "an init-only probe has no landscape phase");
    }

    /** A run whose landscape at init and after training has these extreme eigenvalues. */
    private static RunResult run(ResidualLayout layout, long seed, String verdict, double[] init, double[] trained) {
        RunSpec spec = new RunSpec(layout, 4, 1e-3, false, InitScheme.XAVIER, seed, 100, 64, 4, 8, 64, 20, 0, 0.1, 0.9,
                0.99, 0, 0, 5);
        return new RunResult(spec, verdict, null, 4.2, 2, 2, 3.0, 3.3, null, List.of(), new float[0], new float[0], null,
                Double.NaN, null, landscape(layout, init), landscape(layout, trained), 0);
    }

    private static ModelLandscape.Result landscape(ResidualLayout layout, double[] extremes) {
        Landscape.Line line = new Landscape.Line(new double[] {-1, 0, 1}, new double[] {2.5, 2, 2.7}, 1.2);
        Hessian.Extremes h = new Hessian.Extremes(new Hessian.Eigenvalue(extremes[0], 5, true),
                new Hessian.Eigenvalue(extremes[1], 5, true));
        return new ModelLandscape.Result(layout, 4, 1000, 2, line, null, h, new Diagnostics.BlockSteps(new double[4], new double[3]));
    }

    private static Map<String, Claims.Claim> claims(List<RunResult> results) {
        return LandscapeClaims.evaluate(results).stream().collect(Collectors.toMap(Claims.Claim::id, Function.identity()));
    }

    @Test
    void theClaimComparesEveryResidualLayoutWithNoneOverSeeds() {
        List<RunResult> rs = List.of(
                // none: λ_max 100 and 200 at init (mean 150), ratio 0.5; trained λ_max 20, ratio 0.1
                run(NONE, 0, RunResult.TRAINED, new double[] {100, -50}, new double[] {20, -2}),
                run(NONE, 1, RunResult.TRAINED, new double[] {200, -100}, new double[] {20, -2}),
                // pre-LN: at init below none in one seed of two but below on the mean (120 < 150); trained sharper
                run(PRE_LN, 0, RunResult.TRAINED, new double[] {140, -14}, new double[] {50, -1}),
                run(PRE_LN, 1, RunResult.TRAINED, new double[] {100, -10}, new double[] {40, -1}),
                // highway: flat everywhere
                run(HIGHWAY, 0, RunResult.TRAINED, new double[] {1, -0.1}, new double[] {10, -0.1}),
                run(HIGHWAY, 1, RunResult.TRAINED, new double[] {2, -0.2}, new double[] {10, -0.1}));
        var c = claims(rs);
        Claims.Claim sharpInit = c.get("landscape-sharpness-init");
        assertEquals(Claims.Status.REPRODUCED, sharpInit.status(), sharpInit.measured());
        assertTrue(sharpInit.measured().contains("none λ_max 150 ± 71 (settled 2/2)")
                && sharpInit.measured().contains("pre-ln 120 ± 28 (below, below none in 1 of 2 seeds, settled 2/2)"), sharpInit.measured());
        assertEquals(Claims.Status.REPRODUCED, c.get("landscape-non-convexity-init").status(), "0.1 and 0.1 < 0.5");
        Claims.Claim sharpTrained = c.get("landscape-sharpness-trained");
        assertEquals(Claims.Status.NOT_REPRODUCED, sharpTrained.status(), sharpTrained.measured());
        assertTrue(sharpTrained.measured().contains("Not below none: pre-ln L4"), sharpTrained.measured());
        assertEquals(Claims.Status.REPRODUCED, c.get("landscape-non-convexity-trained").status(),
                c.get("landscape-non-convexity-trained").measured());

        // after training only trained runs count: none stuck on the plateau leaves nothing to compare
        List<RunResult> stuck = List.of(run(NONE, 0, RunResult.STUCK, new double[] {200, -50}, new double[] {1, -0.01}),
                rs.get(2), rs.get(3));
        var s = claims(stuck);
        assertEquals(Claims.Status.NOT_MEASURED, s.get("landscape-sharpness-trained").status());
        assertTrue(s.get("landscape-sharpness-trained").measured().contains("none trained in 0 of 1 runs"),
                s.get("landscape-sharpness-trained").measured());
        assertEquals(Claims.Status.REPRODUCED, s.get("landscape-sharpness-init").status(), "at init every run counts");
        // without none in the cell there is nothing to compare with
        assertEquals(Claims.Status.NOT_MEASURED, claims(List.of(rs.get(2))).get("landscape-sharpness-init").status());
    }

    @Test
    void aStudyWithLandscapesReportsThemAndReadsThemBack(@TempDir Path dir) throws Exception {
        StudyGrid grid = new StudyGrid(List.of(PRE_LN, NONE), List.of(2), List.of(1e-3), List.of(false),
                List.of(InitScheme.XAVIER), StudyGrid.seeds(2), List.of(), 4, 32, 4, 2, 16, 2, 0, 0.1, List.of(0.0), 0, 2);
        StabilityStudy.Outcome out = StabilityStudy.run(StudyPlan.of("landscapes", grid), StudyTesting.corpus(), dir, 2,
                StabilityStudy.Progress.NONE);
        assertEquals(4, out.results().size());
        assertTrue(out.results().stream().allMatch(r -> r.landscapeInit() != null && r.landscapeEnd() != null));
        Claims.Claim init = out.claims().stream().filter(c -> c.id().equals("landscape-sharpness-init")).findFirst().orElseThrow();
        assertTrue(init.status() != Claims.Status.NOT_MEASURED, init.measured());
        List<RunResult> back = StabilityStudy.readResults(dir.resolve("results.jsonl"));
        for (RunResult r : back) {
            RunResult same = out.results().stream().filter(o -> o.spec().equals(r.spec())).findFirst().orElseThrow();
            assertEquals(same.landscapeEnd().hessian(), r.landscapeEnd().hessian());
            assertArrayEquals(same.landscapeInit().line().losses(), r.landscapeInit().line().losses());
        }
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("## Loss landscape") && report.contains("| at init | L2 lr 1e-03 no warmup xavier, 4 steps | none | 2/2 |"),
                report);
        for (String plot : List.of("landscape-1d", "landscape-sharpness")) {
            assertTrue(Files.size(dir.resolve(plot + ".png")) > 1000 && report.contains("(" + plot + ".png)"), plot);
        }
        StabilityStudy.replot(dir);
        assertEquals(report, Files.readString(dir.resolve("report.md")), "--replot writes the same report");
    }
}
