package dev.jgpt.study;

import dev.jgpt.model.GPT;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.model.optim.LrSchedule;
import dev.jgpt.train.LayerDrop;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One run of the study: a fresh model, diagnostics at init, then a short, plain training loop (the
 * model's AdamW, optional linear warmup then a constant rate, optional clipping, optional {@link LayerDrop}, no
 * dropout) that records diagnostics at early steps, a verdict, for a run with lesion draws the lesion phase
 * ({@link Lesions}) on the validation batches, and for a run with landscape iterations the landscape phase
 * ({@link ModelLandscape}) on the probe batch at init and after training. Deliberately separate from
 * dev.jgpt.train's Trainer: it needs hooks inside every step and nothing else (no checkpoints, no schedules).
 */
public final class StabilityRun {
    /** A run is "trained" if its validation loss is at least this far below the unigram loss (nats). */
    public static final double TRAINED_MARGIN = 0.25;
    /** ... and "stuck" if it is not even this far below it. */
    public static final double STUCK_MARGIN = 0.05;
    /** Size of the random weight perturbation of the sensitivity probe. */
    public static final double PERTURBATION = 1e-3;
    static final long PROBE_SEED = 0x5EEDL;
    private static final long LESION_SEED = 0x1E5L;
    static final int VAL_BATCHES = 8;
    /** The landscape phase's line: α over [−1, 1] (one filter norm, Li et al.'s range) at this many points. */
    static final int LANDSCAPE_POINTS = 21;

    private StabilityRun() {
    }

    /** Steps at which early diagnostics are recorded: 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, ... and the last. */
    static boolean recordStep(int step, int steps) {
        if (step == steps || step <= 3) {
            return true;
        }
        for (long p = 1; p <= step; p *= 10) {
            if (step == 5 * p || step == 10 * p || step == 20 * p) {
                return true;
            }
        }
        return false;
    }

    public static RunResult run(RunSpec spec, StudyCorpus corpus) {
        long t0 = System.nanoTime();
        int B = spec.batch(), T = spec.seqLen();
        GPT model = new GPT(spec.modelConfig(corpus.vocabSize), spec.seed());
        model.setTraining(false); // no dropout anyway; keeps forward passes identical

        // The probe batch is the same for every run (fixed seed, validation split): runs differ only by weights.
        int[] px = new int[B * T], py = new int[B * T];
        StudyCorpus.sample(corpus.val, B, T, new SplittableRandom(PROBE_SEED), px, py);

        model.zeroGrad();
        double initLoss = model.lossAndBackward(px, py, B, T);
        Diagnostics.LayerGradients initGrads = Diagnostics.gradients(model);
        double[] ms0 = Diagnostics.residualMeanSquare(model, px, B, T);
        double perturb = Diagnostics.perturbationSensitivity(model, px, B, T, PERTURBATION, spec.seed() * 31 + 7);
        RunResult.InitDiagnostics atInit = new RunResult.InitDiagnostics(initLoss, initGrads, ms0,
                Diagnostics.lemma2Normalised(ms0), perturb);
        if (spec.probeOnly()) {
            return new RunResult(spec, RunResult.PROBE, null, initLoss, Double.NaN, Double.NaN, corpus.unigramEntropy,
                    corpus.unigramLoss, atInit, List.of(), new float[0], new float[0], ms0, Double.NaN, null, null, null,
                    seconds(t0));
        }
        // the landscape restores the weights bit for bit and draws from no stream training uses
        ModelLandscape.Result landscapeInit = landscape(model, spec, px, py);

        Diagnostics.UpdateProbe probe = new Diagnostics.UpdateProbe(model, px, B, T);
        AdamW optimizer = new AdamW(model.parameters(), spec.beta1(), spec.beta2(), 1e-8, spec.weightDecay());
        LrSchedule schedule = spec.schedule();
        SplittableRandom batches = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + 1);
        int[] x = new int[B * T], y = new int[B * T];
        double[] lossCurve = new double[spec.steps()], gradCurve = new double[spec.steps()];
        List<RunResult.StepDiagnostics> early = new ArrayList<>();
        Integer divergedAt = null;
        int done = 0;
        for (int step = 1; step <= spec.steps(); step++) {
            StudyCorpus.sample(corpus.train, B, T, batches, x, y);
            model.zeroGrad();
            model.skipBlocks(LayerDrop.mask(spec.layerDrop(), spec.depth(), spec.seed(), step));
            double loss = model.lossAndBackward(x, y, B, T);
            model.skipBlocks(null);
            boolean record = recordStep(step, spec.steps());
            Diagnostics.LayerGradients g = record ? Diagnostics.gradients(model) : null; // before clipping
            double norm = optimizer.clipGradients(spec.clip());
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                divergedAt = step;
                break;
            }
            double lr = schedule.lr(step - 1);
            optimizer.step(lr);
            lossCurve[step - 1] = loss;
            gradCurve[step - 1] = norm;
            done = step;
            if (record) {
                early.add(new RunResult.StepDiagnostics(step, loss, lr, g, probe.distance(model)));
            }
        }

        double val = Double.NaN, perturbEnd = Double.NaN;
        double[] msEnd = null;
        Lesions.Result lesion = null;
        ModelLandscape.Result landscapeEnd = null;
        if (divergedAt == null) {
            val = validationLoss(model, corpus, B, T);
            model.loss(px, py, B, T);
            msEnd = Diagnostics.residualMeanSquare(model, px, B, T);
            if (!Double.isFinite(val)) {
                divergedAt = spec.steps(); // the last update produced non-finite weights
            } else {
                perturbEnd = Diagnostics.perturbationSensitivity(model, px, B, T, PERTURBATION, spec.seed() * 31 + 7);
                if (spec.lesionDraws() > 0) {
                    lesion = Lesions.measure(model, m -> validationLoss(m, corpus, B, T), corpus.unigramLoss,
                            spec.lesionDraws(), spec.seed() * 0x9E3779B97F4A7C15L + LESION_SEED);
                }
                landscapeEnd = landscape(model, spec, px, py);
            }
        }
        int tail = Math.max(1, Math.min(20, done / 10));
        double finalTrain = Double.NaN;
        if (done > 0) {
            double s = 0;
            for (int i = done - tail; i < done; i++) {
                s += lossCurve[i];
            }
            finalTrain = s / tail;
        }
        return new RunResult(spec, verdict(divergedAt, val, corpus.unigramLoss), divergedAt, initLoss, finalTrain, val,
                corpus.unigramEntropy, corpus.unigramLoss,
                atInit, early, toFloat(lossCurve, done), toFloat(gradCurve, done),
                msEnd, perturbEnd, lesion, landscapeInit, landscapeEnd, seconds(t0));
    }

    /** The first n values at float precision (how results.jsonl keeps the curves). */
    static float[] toFloat(double[] curve, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) curve[i];
        }
        return out;
    }

    /**
     * The landscape phase on the probe batch, or null when the run asks for none: both ends of the Hessian's spectrum
     * by {@code spec.landscapeIterations()} power-iteration steps each, the loss along one filter-normalised direction
     * (drawn from the run's seed) at {@link #LANDSCAPE_POINTS} points over [−1, 1], and the block steps.
     */
    static ModelLandscape.Result landscape(GPT model, RunSpec spec, int[] px, int[] py) {
        if (spec.landscapeIterations() == 0) {
            return null;
        }
        ModelLandscape.Settings s = new ModelLandscape.Settings(1, spec.batch(), spec.seqLen(), 1.0, LANDSCAPE_POINTS, 0,
                spec.landscapeIterations(), 1e-3, true, spec.seed());
        return ModelLandscape.measure(model, new int[][] {px}, new int[][] {py}, s, (phase, done, total) -> { });
    }

    static String verdict(Integer divergedAt, double valLoss, double unigramLoss) {
        if (divergedAt != null || !Double.isFinite(valLoss)) {
            return RunResult.DIVERGED;
        }
        if (valLoss <= unigramLoss - TRAINED_MARGIN) {
            return RunResult.TRAINED;
        }
        return valLoss < unigramLoss - STUCK_MARGIN ? RunResult.SLOW : RunResult.STUCK;
    }

    /** Mean loss over fixed validation batches (the same for every run). */
    static double validationLoss(GPT model, StudyCorpus corpus, int B, int T) {
        SplittableRandom rng = new SplittableRandom(PROBE_SEED + 1);
        int[] x = new int[B * T], y = new int[B * T];
        double s = 0;
        for (int i = 0; i < VAL_BATCHES; i++) {
            StudyCorpus.sample(corpus.val, B, T, rng, x, y);
            s += model.loss(x, y, B, T);
        }
        return s / VAL_BATCHES;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
