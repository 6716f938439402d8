package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static dev.jgpt.model.ResidualLayout.DEEPNORM;
import static dev.jgpt.model.ResidualLayout.NONE;
import static dev.jgpt.model.ResidualLayout.POST_LN;
import static dev.jgpt.model.ResidualLayout.PRE_LN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lesion claims' thresholds on made-up measurements whose answers are known. */
class LesionClaimsTest {
    private static final double LOSS = 2.0, UNIGRAM = 3.0; // a gap of 1 nat: damage = loss increase

    /** A lesioned L4 run whose single deletions and mean losses per k cost these fractions of the gap. */
    private static RunResult run(ResidualLayout layout, double layerDrop, long seed, String verdict, double[] single,
                                 double[] byK) {
        RunSpec spec = new RunSpec(layout, 4, 5e-4, true, InitScheme.XAVIER, seed, 100, 64, 4, 8, 64, 20, 0, 0.1, 0.9,
                0.99, layerDrop, 6, 0);
        double[] singleLoss = new double[4];
        for (int l = 0; l < 4; l++) {
            singleLoss[l] = LOSS + single[l];
        }
        List<Lesions.Deletions> ks = new ArrayList<>();
        for (int k = 0; k <= 4; k++) {
            ks.add(new Lesions.Deletions(k, new int[][] {{}}, new double[] {LOSS + byK[k]}));
        }
        Lesions.Result lesion = new Lesions.Result(LOSS, UNIGRAM, singleLoss, ks);
        return new RunResult(spec, verdict, null, 4.2, LOSS, LOSS, 3.0, UNIGRAM, null, List.of(), new float[0],
                new float[0], null, Double.NaN, lesion, null, null, 0);
    }

    private static Map<String, Claims.Claim> claims(List<RunResult> results) {
        return LesionClaims.evaluate(results).stream().collect(Collectors.toMap(Claims.Claim::id, Function.identity()));
    }

    @Test
    void thresholdsDecideEachClaim() {
        double[] rising = {0, 0.1, 0.2, 0.4, 0.9};
        List<RunResult> rs = List.of(
                // pre-LN: median single deletion 12.5% < 1/L = 25%
                run(PRE_LN, 0, 0, RunResult.TRAINED, new double[] {0.05, 0.1, 0.15, 0.2}, rising),
                // post-LN: median 45% > 25%, and its loss falls from k = 1 to k = 2 by 10% of the way
                run(POST_LN, 0, 0, RunResult.TRAINED, new double[] {0.3, 0.4, 0.5, 0.6}, new double[] {0, 0.4, 0.3, 0.6, 1}),
                // DeepNorm lesioned but never trained: nothing to measure
                run(DEEPNORM, 0, 0, RunResult.STUCK, new double[] {0, 0, 0, 0}, new double[5]),
                // none: median 85% > 50%
                run(NONE, 0, 0, RunResult.TRAINED, new double[] {0.8, 0.9, 0.7, 0.95}, new double[] {0, 0.85, 1, 1, 1}),
                // LayerDrop: pre-LN's mean damage over k = 1..3 falls from 23% to 12%, post-LN's rises
                run(PRE_LN, 0.2, 0, RunResult.TRAINED, new double[] {0.02, 0.05, 0.05, 0.1}, new double[] {0, 0.05, 0.1, 0.2, 0.8}),
                run(POST_LN, 0.2, 0, RunResult.TRAINED, new double[] {0.5, 0.5, 0.5, 0.5}, new double[] {0, 0.5, 0.6, 0.7, 1}));
        var c = claims(rs);
        assertEquals(Claims.Status.REPRODUCED, c.get("lesion-pre-ln").status(), c.get("lesion-pre-ln").measured());
        assertTrue(c.get("lesion-pre-ln").measured().contains("median 12.5% (threshold 25.0%)"), c.get("lesion-pre-ln").measured());
        assertEquals(Claims.Status.NOT_REPRODUCED, c.get("lesion-post-ln").status());
        assertEquals(Claims.Status.NOT_MEASURED, c.get("lesion-deepnorm").status());
        assertTrue(c.get("lesion-deepnorm").measured().contains("trained in 0 of 1 runs"), c.get("lesion-deepnorm").measured());
        assertEquals(Claims.Status.NOT_MEASURED, c.get("lesion-sandwich").status(), "no sandwich run at all");
        assertEquals(Claims.Status.REPRODUCED, c.get("lesion-none").status(), c.get("lesion-none").measured());
        assertEquals(Claims.Status.NOT_REPRODUCED, c.get("lesion-k").status());
        assertTrue(c.get("lesion-k").measured().contains("post-ln L4 NOT monotone"), c.get("lesion-k").measured());
        assertTrue(c.get("lesion-k").measured().contains("pre-ln L4 monotone"), c.get("lesion-k").measured());
        assertEquals(Claims.Status.NOT_REPRODUCED, c.get("lesion-layer-drop").status());
        assertTrue(c.get("lesion-layer-drop").measured().startsWith("less damage with P > 0 in 1 of 2 cells: pre-ln L4 23% → 12%"),
                c.get("lesion-layer-drop").measured());

        // without the runs that break them, the claims hold
        var good = claims(List.of(rs.get(0), rs.get(3), rs.get(4)));
        assertEquals(Claims.Status.REPRODUCED, good.get("lesion-k").status());
        assertEquals(Claims.Status.REPRODUCED, good.get("lesion-layer-drop").status());
        // a plain stack that loses less than half is not a collapse
        var mild = claims(List.of(run(NONE, 0, 0, RunResult.TRAINED, new double[] {0.3, 0.4, 0.5, 0.2}, new double[5])));
        assertEquals(Claims.Status.NOT_REPRODUCED, mild.get("lesion-none").status());
    }

    @Test
    void damageIsAFractionOfTheWayToTheUnigramLoss() {
        Lesions.Result r = new Lesions.Result(2.0, 3.0, new double[] {2.5}, List.of());
        assertEquals(0.5, r.relative(2.5));
        assertEquals(-0.1, r.relative(1.9), 1e-12, "a deletion can help");
        assertTrue(Double.isNaN(new Lesions.Result(3.1, 3.0, new double[] {3.2}, List.of()).relative(3.2)),
                "a model above the unigram loss has learned nothing to lose");
    }
}
