package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * The axes of a study. Training runs are the full product layouts × depths × lrs × warmups × inits × seeds;
 * init probes (diagnostics at initialisation only, no training: cheap) cover layouts × probeDepths × inits ×
 * seeds for the depths not already trained, so depth trends at init reach deeper than training can afford.
 */
public record StudyGrid(List<ResidualLayout> layouts, List<Integer> depths, List<Double> lrs, List<Boolean> warmups,
                        List<InitScheme> inits, List<Long> seeds, List<Integer> probeDepths, int steps, int width,
                        int heads, int batch, int seqLen, int warmupSteps, double clip, double weightDecay) {

    public StudyGrid {
        layouts = List.copyOf(layouts);
        depths = List.copyOf(depths);
        lrs = List.copyOf(lrs);
        warmups = List.copyOf(warmups);
        inits = List.copyOf(inits);
        seeds = List.copyOf(seeds);
        probeDepths = List.copyOf(probeDepths);
        for (var axis : List.of(layouts, depths, lrs, warmups, inits, seeds)) {
            if (axis.isEmpty()) {
                throw new IllegalArgumentException("stability grid: every axis needs at least one value (layouts, depths, lrs, warmup, inits, seeds)");
            }
        }
        if (steps < 1) {
            throw new IllegalArgumentException("stability grid: --steps must be >= 1, got " + steps);
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("stability grid: --width " + width + " is not a multiple of " + heads + " heads");
        }
    }

    /** The layouts the presets train: each puts LN and the skip somewhere else around x + F (highway, dense, unet by --layouts). */
    public static final List<ResidualLayout> CLASSIC_LAYOUTS = List.of(ResidualLayout.POST_LN, ResidualLayout.PRE_LN,
            ResidualLayout.SANDWICH, ResidualLayout.DEEPNORM, ResidualLayout.REZERO, ResidualLayout.NONE);

    /**
     * {@code quick}: every classic layout at depths 2, 6, 12, lr 1e-3, no warmup, both inits, 3 seeds, 200 steps
     * (a few minutes on 2 cores); {@code paper}: depths to 24, lrs 1e-4/5e-4/1e-3, warmup off and on,
     * 500 steps (hours). Both: width 64, 4 heads, batch 8 × 64 tokens, warmup over the first 20% of steps.
     */
    public static StudyGrid preset(String name) {
        List<ResidualLayout> all = CLASSIC_LAYOUTS;
        List<InitScheme> inits = List.of(InitScheme.XAVIER, InitScheme.GPT2);
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "quick" -> new StudyGrid(all, List.of(2, 6, 12), List.of(1e-3), List.of(false), inits,
                    seeds(3), List.of(2, 4, 8, 16, 32), 200, 64, 4, 8, 64, 40, 0, 0.1);
            case "paper" -> new StudyGrid(all, List.of(2, 6, 12, 24), List.of(1e-4, 5e-4, 1e-3), List.of(false, true),
                    inits, seeds(3), List.of(2, 4, 8, 12, 16, 24, 32), 500, 64, 4, 8, 64, 100, 0, 0.1);
            default -> throw new IllegalArgumentException("unknown stability preset '" + name + "'; expected quick or paper");
        };
    }

    public static List<Long> seeds(int n) {
        List<Long> s = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            s.add(i);
        }
        return s;
    }

    /** Training runs in grid order, then the init probes for depths not trained. */
    public List<RunSpec> expand() {
        List<RunSpec> runs = new ArrayList<>();
        for (InitScheme init : inits) {
            for (ResidualLayout layout : layouts) {
                for (int depth : depths) {
                    for (double lr : lrs) {
                        for (boolean warmup : warmups) {
                            for (long seed : seeds) {
                                runs.add(spec(layout, depth, lr, warmup, init, seed, steps));
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
                        runs.add(spec(layout, depth, lrs.get(0), false, init, seed, 0));
                    }
                }
            }
        }
        return runs;
    }

    private RunSpec spec(ResidualLayout layout, int depth, double lr, boolean warmup, InitScheme init, long seed, int n) {
        return new RunSpec(layout, depth, lr, warmup, init, seed, n, width, heads, batch, seqLen, warmupSteps, clip,
                weightDecay, 0.9, 0.99);
    }

    /** Relative cost of a run (layer-steps), to schedule the longest first and to estimate time. */
    static double cost(RunSpec r) {
        return (double) r.depth() * Math.max(r.steps(), 2) * r.batch() * r.seqLen() * r.width() / (8.0 * 64 * 64);
    }

    /**
     * CPU seconds the grid should take: Σ cost × 2.4 ms, the rate measured for the quick preset on this
     * machine class (Zen 4, one kernel thread per run). Divide by the number of free cores for wall time.
     */
    public double estimatedCpuSeconds() {
        return expand().stream().mapToDouble(StudyGrid::cost).sum() * 2.4e-3;
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
                "layouts %s × depths %s × lr %s × warmup %s × init %s × seeds %s; %d steps, width %d, %d heads, batch %d×%d, warmup %d steps, clip %s, wd %s; init probes at depths %s",
                layouts, depths, lrs.stream().map(StudyGrid::lr).toList(), warmups.stream().map(w -> w ? "on" : "off").toList(),
                inits, seeds, steps, width,
                heads, batch, seqLen, warmupSteps, clip > 0 ? clip : "off", weightDecay, probeDepths);
    }
}
