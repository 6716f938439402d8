package dev.jgpt.study;

import java.util.List;

/**
 * Everything one run of the grid measured; one JSON line of results.jsonl.
 *
 * @param verdict          trained (validation loss at least {@link StabilityRun#TRAINED_MARGIN} nats below the
 *                         unigram loss) / slow (below the unigram loss, but by less) / stuck (within
 *                         {@link StabilityRun#STUCK_MARGIN} of it or above: learned character frequencies and
 *                         nothing else) / diverged (a non-finite loss or gradient) / probe (init only, no training)
 * @param divergedAtStep   the 1-based step whose loss or gradient was NaN/∞, or null
 * @param unigramEntropy   H(X) of the training split (nats)
 * @param unigramLoss      validation loss of the unigram model: the level a stuck run sits at
 * @param atInit           diagnostics at initialisation, on the fixed probe batch
 * @param early            gradient norms (on that step's batch, before the update) and the update size
 *                         ‖F(θ_t) − F(θ_0)‖ on the probe batch (after the update) at steps 1, 2, 3, 5, 10, 20, 50, ...
 * @param lossCurve        training loss per step (up to divergence), at float precision: the curves are most of a
 *                         record, and float's 7 digits are more than a plot shows (every figure the report reads,
 *                         such as {@code finalTrainLoss}, is computed at double precision before rounding)
 * @param gradNormCurve    global gradient norm per step, before clipping, at float precision
 * @param residualMeanSquareEnd m_l (see {@link Diagnostics#residualMeanSquare}) on the probe batch after training
 * @param perturbationEnd  the perturbation sensitivity ({@link InitDiagnostics#perturbation}) after training; NaN
 *                         for a probe or a diverged run
 * @param lesion           the lesion phase's measurements on the validation batches, or null (none asked, probe,
 *                         diverged)
 * @param landscapeInit    the landscape phase at init on the probe batch ({@link ModelLandscape#measure}: the Hessian's
 *                         extremes, the loss along a filter-normalised direction, the block steps), or null (none asked,
 *                         probe)
 * @param landscapeEnd     the same after training, or null (none asked, probe, diverged)
 */
public record RunResult(RunSpec spec, String verdict, Integer divergedAtStep, double initialLoss, double finalTrainLoss,
                        double valLoss, double unigramEntropy, double unigramLoss, InitDiagnostics atInit,
                        List<StepDiagnostics> early, float[] lossCurve, float[] gradNormCurve,
                        double[] residualMeanSquareEnd, double perturbationEnd, Lesions.Result lesion,
                        ModelLandscape.Result landscapeInit, ModelLandscape.Result landscapeEnd, double seconds) {

    public static final String TRAINED = "trained", SLOW = "slow", STUCK = "stuck", DIVERGED = "diverged",
            PROBE = "probe";

    /**
     * @param residualMeanSquare m_0..m_L: mean ‖x_l‖²/d (x_0 = embeddings)
     * @param lemma2Rho          1 + m_l − m_0: the stream normalised to a unit-variance input (Lemma 2)
     * @param perturbation       RMS logit change under ±1e-3 on every weight
     */
    public record InitDiagnostics(double loss, Diagnostics.LayerGradients gradients, double[] residualMeanSquare,
                                  double[] lemma2Rho, double perturbation) {
    }

    public record StepDiagnostics(int step, double loss, double lr, Diagnostics.LayerGradients gradients,
                                  double updateSize) {
    }

    public boolean trained() {
        return TRAINED.equals(verdict);
    }

    /** Stuck near the unigram loss or diverged: the layout failed at this setting. */
    public boolean failed() {
        return STUCK.equals(verdict) || DIVERGED.equals(verdict);
    }
}
