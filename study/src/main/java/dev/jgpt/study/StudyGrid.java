package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * The axes of one part of a study ({@link StudyPlan}). Training runs are the full product layouts × depths ×
 * lrs × warmups × inits × layer drops × seeds; init probes (diagnostics at initialisation only, no training:
 * cheap) cover layouts × probeDepths × inits × seeds for the depths not already trained, so depth trends at init
 * reach deeper than training can afford. {@code lesionDraws > 0} gives every training run a lesion phase,
 * {@code landscapeIterations > 0} a landscape phase at init and after training.
 */
public record StudyGrid(List<ResidualLayout> layouts, List<Integer> depths, List<Double> lrs, List<Boolean> warmups,
                        List<InitScheme> inits, List<Long> seeds, List<Integer> probeDepths, int steps, int width,
                        int heads, int batch, int seqLen, int warmupSteps, double clip, double weightDecay,
                        List<Double> layerDrops, int lesionDraws, int landscapeIterations) {

    public StudyGrid {
        layouts = List.copyOf(layouts);
        depths = List.copyOf(depths);
        lrs = List.copyOf(lrs);
        warmups = List.copyOf(warmups);
        inits = List.copyOf(inits);
        seeds = List.copyOf(seeds);
        probeDepths = List.copyOf(probeDepths);
        layerDrops = List.copyOf(layerDrops);
        for (var axis : List.of(layouts, depths, lrs, warmups, inits, seeds, layerDrops)) {
            if (axis.isEmpty()) {
                throw new IllegalArgumentException("stability grid: every axis needs at least one value (layouts, depths, lrs, warmup, inits, seeds, layer drops)");
            }
        }
        if (steps < 1) {
            throw new IllegalArgumentException("stability grid: --steps must be >= 1, got " + steps);
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("stability grid: --width " + width + " is not a multiple of " + heads + " heads");
        }
        for (double p : layerDrops) {
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException("stability grid: --layer-drops must be in [0, 1), got " + p);
            }
        }
        if (lesionDraws < 0) {
            throw new IllegalArgumentException("stability grid: --lesions must be >= 0 (0: no lesion phase), got " + lesionDraws);
        }
        if (landscapeIterations < 0) {
            throw new IllegalArgumentException("stability grid: --landscape must be >= 0 (0: no landscape phase), got "
                    + landscapeIterations);
        }
    }

    /** The layouts the presets train: each puts LN and the skip somewhere else around x + F (highway, dense, unet by --layouts). */
    public static final List<ResidualLayout> CLASSIC_LAYOUTS = List.of(ResidualLayout.POST_LN, ResidualLayout.PRE_LN,
            ResidualLayout.SANDWICH, ResidualLayout.DEEPNORM, ResidualLayout.REZERO, ResidualLayout.NONE);

    /** The quick preset's single grid; the presets themselves are {@link StudyPlan#preset}. */
    static StudyGrid quickCore() {
        return new StudyGrid(CLASSIC_LAYOUTS, List.of(2, 6, 12), List.of(1e-3), List.of(false),
                List.of(InitScheme.XAVIER, InitScheme.GPT2), seeds(3), List.of(2, 4, 8, 16, 32), 200, 64, 4, 8, 64, 40,
                0, 0.1, List.of(0.0), 0, 0);
    }

    public static List<Long> seeds(int n) {
        List<Long> s = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            s.add(i);
        }
        return s;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Training runs in grid order, then the init probes for depths not trained. */
    public List<RunSpec> expand() {
        List<RunSpec> runs = new ArrayList<>();
        for (InitScheme init : inits) {
            for (ResidualLayout layout : layouts) {
                for (int depth : depths) {
                    for (double lr : lrs) {
                        for (boolean warmup : warmups) {
                            for (double p : layerDrops) {
                                for (long seed : seeds) {
                                    runs.add(spec(layout, depth, lr, warmup, init, seed, steps, p, lesionDraws, landscapeIterations));
                                }
                            }
                        }
                    }
                }
            }
        }
        LinkedHashSet<Integer> probeOnly = new LinkedHashSet<>(probeDepths);
        probeOnly.removeAll(depths);
        for (InitScheme init : inits) {
            for (ResidualLayout layout : layouts) {
                for (int depth : probeOnly) {
                    for (long seed : seeds) {
                        runs.add(spec(layout, depth, lrs.get(0), false, init, seed, 0, 0, 0, 0));
                    }
                }
            }
        }
        return runs;
    }

    private RunSpec spec(ResidualLayout layout, int depth, double lr, boolean warmup, InitScheme init, long seed, int n,
                         double layerDrop, int draws, int landscape) {
        return new RunSpec(layout, depth, lr, warmup, init, seed, n, width, heads, batch, seqLen, warmupSteps, clip,
                weightDecay, 0.9, 0.99, layerDrop, draws, landscape);
    }

    /**
     * Relative cost of a run (layer-steps at width 64, batch 8 × 64), to schedule the longest first and to estimate
     * time. The lesion phase's forward passes count a third of a training step each: for every subset it
     * evaluates, {@link StabilityRun#VAL_BATCHES} batches. The landscape phase, twice (at init and after training),
     * is a line of forward passes and two gradients per power-iteration step for each end of the spectrum.
     */
    static double cost(RunSpec r) {
        double steps = Math.max(r.steps(), 2) + lesionEvaluations(r) * StabilityRun.VAL_BATCHES / 3.0
                + (r.landscapeIterations() == 0 || r.steps() == 0 ? 0
                : 2 * (StabilityRun.LANDSCAPE_POINTS / 3.0 + 2 * 2 * r.landscapeIterations()));
        return r.depth() * steps * r.batch() * r.seqLen() * r.width() / (8.0 * 64 * 64);
    }

    /** How many subsets the lesion phase evaluates ({@link Lesions#evaluations}). */
    static double lesionEvaluations(RunSpec r) {
        return r.lesionDraws() == 0 || r.steps() == 0 ? 0 : Lesions.evaluations(r.depth(), r.lesionDraws());
    }

    static List<RunSpec> longestFirst(List<RunSpec> runs) {
        List<RunSpec> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingDouble(StudyGrid::cost).reversed());
        return sorted;
    }

    static String lr(double lr) {
        return java.math.BigDecimal.valueOf(lr).stripTrailingZeros().toPlainString();
    }

    public String describe() {
        return String.format(Locale.ROOT,
                "layouts %s × depths %s × lr %s × warmup %s × init %s × layer drop %s × seeds %s; %d steps, width %d, %d heads, batch %d×%d, warmup %d steps, clip %s, wd %s; %s; %s; init probes at depths %s",
                layouts, depths, lrs.stream().map(StudyGrid::lr).toList(), warmups.stream().map(w -> w ? "on" : "off").toList(),
                inits, layerDrops.stream().map(StudyGrid::lr).toList(), seeds, steps, width,
                heads, batch, seqLen, warmupSteps, clip > 0 ? lr(clip) : "off", weightDecay,
                lesionDraws > 0 ? "lesions (" + lesionDraws + " draws per k)" : "no lesions",
                landscapeIterations > 0 ? "landscapes at init and trained (" + landscapeIterations + " power-iteration steps per end)"
                        : "no landscapes", probeDepths);
    }

    /** Changes some axes of a grid; unset ones keep their values. */
    public static final class Builder {
        private List<ResidualLayout> layouts;
        private List<Integer> depths, probeDepths;
        private List<Double> lrs, layerDrops;
        private List<Boolean> warmups;
        private List<InitScheme> inits;
        private List<Long> seeds;
        private int steps, width, heads, batch, seqLen, warmupSteps, lesionDraws, landscapeIterations;
        private double clip, weightDecay;

        private Builder(StudyGrid g) {
            layouts = g.layouts;
            depths = g.depths;
            lrs = g.lrs;
            warmups = g.warmups;
            inits = g.inits;
            seeds = g.seeds;
            probeDepths = g.probeDepths;
            steps = g.steps;
            width = g.width;
            heads = g.heads;
            batch = g.batch;
            seqLen = g.seqLen;
            warmupSteps = g.warmupSteps;
            clip = g.clip;
            weightDecay = g.weightDecay;
            layerDrops = g.layerDrops;
            lesionDraws = g.lesionDraws;
            landscapeIterations = g.landscapeIterations;
        }

        public Builder layouts(List<ResidualLayout> v) { layouts = v; return this; }
        public Builder depths(List<Integer> v) { depths = v; return this; }
        public Builder lrs(List<Double> v) { lrs = v; return this; }
        public Builder warmups(List<Boolean> v) { warmups = v; return this; }
        public Builder inits(List<InitScheme> v) { inits = v; return this; }
        public Builder seeds(List<Long> v) { seeds = v; return this; }
        public Builder probeDepths(List<Integer> v) { probeDepths = v; return this; }
        /** Also sets the warmup to the first 20% of the steps. */
        public Builder steps(int v) { steps = v; warmupSteps = Math.max(1, v / 5); return this; }
        public Builder width(int v) { width = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder seqLen(int v) { seqLen = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder clip(double v) { clip = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder layerDrops(List<Double> v) { layerDrops = v; return this; }
        public Builder lesionDraws(int v) { lesionDraws = v; return this; }
        public Builder landscapeIterations(int v) { landscapeIterations = v; return this; }

        public StudyGrid build() {
            return new StudyGrid(layouts, depths, lrs, warmups, inits, seeds, probeDepths, steps, width, heads, batch,
                    seqLen, warmupSteps, clip, weightDecay, layerDrops, lesionDraws, landscapeIterations);
        }
    }
}
