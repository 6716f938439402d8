package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.StudyResults.Cell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** report.md: setup, the claims table, per-cell verdicts, diagnostics at init, definitions and plots. */
public final class StudyReport {
    /** Grid order: init, layout, depth, lr, warmup, regime, seed; probes after training runs of the same depth. */
    public static final Comparator<RunResult> ORDER = Comparator
            .comparing((RunResult r) -> r.spec().init())
            .thenComparing(r -> r.spec().layout())
            .thenComparingInt(r -> r.spec().depth())
            .thenComparingInt(r -> r.spec().probeOnly() ? 1 : 0)
            .thenComparingDouble(r -> r.spec().lr())
            .thenComparing(r -> r.spec().warmup())
            .thenComparing(r -> StudyResults.Regime.of(r.spec()))
            .thenComparingLong(r -> r.spec().seed());

    /**
     * What the report says about the study beyond its results (kept in study.json, so that --replot can
     * rewrite the same report).
     *
     * @param grid    the grid's description ({@link StudyGrid#describe})
     * @param corpus  the corpus's name
     * @param seconds wall time of the whole study
     * @param threads runs at a time
     * @param reused  runs whose records an earlier, interrupted study left in results.jsonl (not trained again;
     *                {@code seconds} is then the wall time of the rest)
     */
    public record Header(String grid, String corpus, double seconds, int threads, int reused) {
    }

    private StudyReport() {
    }

    /** report.md for results sorted in {@link #ORDER}, their claims and the plots written beside it (base names). */
    static String markdown(Header header, List<RunResult> results, List<Claims.Claim> claims, List<String> plots) {
        StringBuilder md = new StringBuilder("# Residual-layout stability study\n\n");
        RunResult any = results.isEmpty() ? null : results.get(0);
        long training = results.stream().filter(r -> !r.spec().probeOnly()).count();
        if (header.grid().contains("\n")) {
            md.append("- Grid, in parts (a run two parts ask for trains once):\n");
            header.grid().lines().forEach(part -> md.append("  - ").append(part).append('\n'));
        } else {
            md.append(String.format(Locale.ROOT, "- Grid: %s.%n", header.grid()));
        }
        md.append(String.format(Locale.ROOT, "- %d training runs and %d init-only probes in %.0f s wall (%d runs at a time, kernel threads 1 each)%s.%n",
                training, results.size() - training, header.seconds(), header.threads(), header.reused() == 0 ? ""
                        : String.format(Locale.ROOT, "; %d of the runs came from an earlier invocation's results.jsonl, resumed, and the wall time is the rest's", header.reused())));
        if (any != null) {
            md.append(String.format(Locale.ROOT,
                    "- Corpus: %s, char-level. Unigram entropy of the training split %.3f nats; the unigram model's validation loss (\"unigram loss\") %.3f; untrained ≈ ln V.%n",
                    header.corpus(), any.unigramEntropy(), any.unigramLoss()));
            md.append(String.format(Locale.ROOT,
                    "- Verdicts on the validation loss after training (8 fixed batches): **trained** ≤ unigram loss − %.2f = %.3f; **stuck** ≥ unigram loss − %.2f = %.3f (no better than character frequencies); **slow** in between; **diverged** = a NaN/∞ loss or gradient (step given).%n",
                    StabilityRun.TRAINED_MARGIN, any.unigramLoss() - StabilityRun.TRAINED_MARGIN, StabilityRun.STUCK_MARGIN,
                    any.unigramLoss() - StabilityRun.STUCK_MARGIN));
        }
        md.append("- Optimiser: AdamW (β = 0.9, 0.99, ε = 1e-8, weight decay on matrices and embeddings), constant lr after optional linear warmup, no dropout, no clipping and no LayerDrop unless stated. The init scheme is part of every run's configuration (results.jsonl).\n");
        md.append("- Claims about trained cells are checked within one training regime (steps, clipping): when the study has several, each regime gets its own row. Runs trained with LayerDrop answer the lesion claims only.\n\n");

        md.append("## Claims\n\n| # | claim | source | measured | seeds | result |\n|---|---|---|---|---|---|\n");
        int i = 1;
        for (Claims.Claim c : claims) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | **%s** |%n", i++, cell(c.claim()),
                    cell(c.source()), cell(c.measured()), cell(c.seeds()), c.status().text));
        }

        md.append("\n## Verdicts per cell\n\nOne letter per seed: T trained, s slow, S stuck, D diverged; then the mean validation loss.\n\n");
        appendVerdicts(md, results);

        if (LesionClaims.any(results)) {
            appendLesions(md, results);
        }
        if (LandscapeClaims.any(results)) {
            appendLandscapes(md, results);
        }

        md.append("\n## Diagnostics at init\n\nMeans over seeds. g_L = ‖∂L/∂W²_L‖_F (last block's FFN output projection, Xiong Thm 1); ρ_L = 1 + m_L − m_0 (Lemma 2 normalisation, see below; for post-ln and deepnorm m_L itself, an LN output); δ = RMS logit change under ±1e-3 on every weight.\n\n");
        appendInit(md, results);

        md.append("""

                ## Definitions

                - **Gradient norms** are L2 norms of the mean cross-entropy's gradient on one fixed probe batch (validation split, the same tokens for every run), per block and per sublayer (attention: ln_1, c_attn, c_proj; FFN: ln_2, c_fc, c_proj). The Thm 1 figure is the last block's `mlp.c_proj.weight` (W² in Xiong et al.).
                - **Residual stream**: m_l = mean over the B·T rows of ‖x_l‖²/d, x_0 = token + position embedding, x_l = stream after block l. Lemma 2 assumes unit-variance inputs (‖x_0‖²/d = 1) but GPT embeddings start near 0.02² per element. In pre-LN each sublayer sees LN(x), so its output does not depend on the scale of x and at init is uncorrelated with it: E‖x_l‖² = E‖x_0‖² + Σ E‖F‖². We therefore report ρ_l = 1 + m_l − m_0, the value a unit-variance input would give, against the band 1 + l/2 ≤ ρ_l ≤ 1 + 3l/2 (l = blocks applied). For post-LN and DeepNorm the stream is an LN output, m_l = 1 by construction.
                - **Model update** ‖F(θ_t) − F(θ_0)‖: RMS over all logits of the probe batch, after step t's update.
                - **Perturbation sensitivity** δ: every parameter gets an independent ±1e-3 (random sign); RMS logit change on the probe batch; weights restored.
                - Init probes: runs with 0 steps that only measure at init, for depths the training grid does not include.
                """);
        if (!plots.isEmpty()) {
            md.append("\n## Plots\n\nEach as PNG and SVG.\n\n");
            for (String p : plots) {
                md.append("![").append(p).append("](").append(p).append(".png)\n\n");
            }
        }
        return md.toString();
    }

    /** A markdown table cell: a literal | would end the cell. */
    static String cell(String s) {
        return s.replace("|", "\\|");
    }

    private static void appendVerdicts(StringBuilder md, List<RunResult> results) {
        var cells = StudyResults.cells(results);
        Set<String> columns = new LinkedHashSet<>();
        Set<List<Object>> sections = new TreeSet<>(Comparator.comparing((List<Object> k) -> (StudyResults.Regime) k.get(0))
                .thenComparing(k -> (InitScheme) k.get(1)));
        List<Cell> keys = new ArrayList<>(cells.keySet());
        keys.sort(Comparator.comparing(Cell::lr).thenComparing(Cell::warmup));
        for (Cell c : keys) {
            sections.add(List.of(c.regime(), c.init()));
            columns.add(column(c));
        }
        boolean severalRegimes = sections.stream().map(k -> k.get(0)).distinct().count() > 1;
        for (List<Object> section : sections) {
            StudyResults.Regime regime = (StudyResults.Regime) section.get(0);
            InitScheme init = (InitScheme) section.get(1);
            md.append("**init ").append(init.id()).append(severalRegimes ? ", " + regime.label() : "")
                    .append("**\n\n| layout | depth |");
            for (String col : columns) {
                md.append(' ').append(col).append(" |");
            }
            md.append("\n|---|---|").append("---|".repeat(columns.size())).append('\n');
            Map<String, Map<String, String>> rows = new LinkedHashMap<>();
            cells.entrySet().stream()
                    .filter(e -> e.getKey().init() == init && e.getKey().regime().equals(regime))
                    .sorted(Comparator.comparing((Map.Entry<Cell, List<RunResult>> e) -> e.getKey().layout())
                            .thenComparingInt(e -> e.getKey().depth()))
                    .forEach(e -> rows.computeIfAbsent(e.getKey().layout().id() + " | " + e.getKey().depth(),
                            k -> new LinkedHashMap<>()).put(column(e.getKey()), StudyResults.cellText(e.getValue())));
            rows.forEach((row, cols) -> {
                md.append("| ").append(row).append(" |");
                for (String col : columns) {
                    md.append(' ').append(cols.getOrDefault(col, "")).append(" |");
                }
                md.append('\n');
            });
            md.append('\n');
        }
    }

    /** The lesion section: what deleting means, the thresholds, and the figures per layout, depth and LayerDrop. */
    private static void appendLesions(StringBuilder md, List<RunResult> results) {
        md.append("""

                ## Lesions

                After training, blocks are deleted at test time and the validation loss (the same 8 batches as the verdicts) is measured again (Veit et al. 2016). Only runs that trained count in the figures.

                """ + Lesions.DEFINITION + """


                Thresholds, fixed before measuring: graceful = the median single deletion costs less than 1/L (a block's share of the depth: what an additive ensemble of L equal blocks would lose, where a chain of essential links loses nearly everything); collapse = more than 50%; monotone in k = the mean loss never falls by more than 2% of the way from one k to the next; LayerDrop helps = lower mean damage over k = 1..L−1 in every cell where both trained. For k = 0..L, every k-subset is evaluated when there are at most as many as the draws per k (the exact expectation over a random subset), else that many random subsets in a balanced design: windows of k consecutive blocks around a random order of the blocks, so that every block falls in about k/L of them.

                | layout | depth | LayerDrop P | trained | median single deletion | worst block | mean damage k = 1..L−1 | k = L/2 | k = L | monotone in k |
                |---|---|---|---|---|---|---|---|---|---|
                """);
        for (LesionClaims.Summary s : LesionClaims.summaries(results)) {
            boolean t = !s.trained().isEmpty();
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %d/%d | %s | %s | %s | %s | %s | %s |%n", s.layout().id(),
                    s.depth(), StudyGrid.lr(s.layerDrop()), s.trained().size(), s.runs().size(),
                    LesionClaims.percent(s.medianSingle()), LesionClaims.percent(s.worstSingle()),
                    LesionClaims.percent(s.meanDamage()), t ? LesionClaims.percent(s.relByK()[s.depth() / 2]) : "–",
                    t ? LesionClaims.percent(s.relByK()[s.depth()]) : "–", t ? (s.monotone() ? "yes" : "no") : "–"));
        }
        md.append("\nEvery lesion is in `lesion.jsonl` (one line per lesioned run: its configuration, the intact and unigram losses, each single deletion, every subset per k).\n");
    }

    /** The landscape section: what was measured, and the figures per cell, layout and point of training. */
    private static void appendLandscapes(StringBuilder md, List<RunResult> results) {
        md.append(String.format(Locale.ROOT, """

                ## Loss landscape

                At init and after training, on the fixed probe batch (the same tokens for every run): the Hessian's largest and smallest eigenvalues by power iteration on Hessian-vector products (each the central difference of two gradients, ε = %s; stopped when the estimate settles to 1e-3 relative, else a bound from inside the spectrum), and the loss along one filter-normalised Gaussian direction (Li et al. 2018: each row of a weight matrix or embedding scaled to that row's norm; drawn from the run's seed) at %d points over α ∈ [−1, 1]. λ_max is the sharpness; \\|λ_min/λ_max\\| Li et al.'s measure of non-convexity (0: convex around the weights); d²L/dα² the curvature along the direction. Mean ± sd over the runs counted: every run at init, the runs that trained after training (a stack stuck at the unigram loss sits on a plateau). The claims compare each residual layout with none in the same cell.

                | weights | cell | layout | runs | power iteration settled |""", Hessian.DEFAULT_STEP, StabilityRun.LANDSCAPE_POINTS));
        var columns = LandscapeClaims.columns();
        columns.keySet().forEach(c -> md.append(' ').append(c).append(" |"));
        md.append("\n|---|---|---|---|---|").append("---|".repeat(columns.size())).append('\n');
        for (LandscapeClaims.Summary s : LandscapeClaims.summaries(results)) {
            long settled = s.counted().stream().map(r -> s.weights().of(r).hessian())
                    .filter(h -> h != null && h.max().converged() && (h.min() == null || h.min().converged())).count();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %d/%d | %s |", s.weights().text, s.cell().fullLabel(),
                    s.layout().id(), s.counted().size(), s.runs().size(), s.counted().isEmpty() ? "–" : settled + "/" + s.counted().size()));
            columns.values().forEach(f -> md.append(' ').append(s.counted().isEmpty() ? "–" : s.text(f)).append(" |"));
            md.append('\n');
        }
        md.append("\nEvery run's landscape (the line, both eigenvalues with their iterations, the block steps) is in `results.jsonl` (`landscapeInit`, `landscapeEnd`).\n");
    }

    private static String column(Cell c) {
        return String.format(Locale.ROOT, "lr %.0e%s", c.lr(), c.warmup() ? " warmup" : "");
    }

    private static void appendInit(StringBuilder md, List<RunResult> results) {
        Set<Integer> depths = new TreeSet<>();
        results.forEach(r -> depths.add(r.spec().depth()));
        Set<InitScheme> inits = new TreeSet<>();
        Set<ResidualLayout> layouts = new TreeSet<>();
        results.forEach(r -> {
            inits.add(r.spec().init());
            layouts.add(r.spec().layout());
        });
        for (InitScheme init : inits) {
            md.append("**init ").append(init.id()).append("**\n\n| layout | ");
            md.append(depths.stream().map(d -> "L" + d + ": g_L / ρ_L / δ").collect(Collectors.joining(" | ")));
            md.append(" |\n|---|").append("---|".repeat(depths.size())).append('\n');
            for (ResidualLayout layout : layouts) {
                var g = StudyResults.initMean(results, layout, init, d -> d.gradients().lastLayerFfn());
                // ρ is meaningful where the stream accumulates; post-LN/DeepNorm streams are LN outputs (m = 1)
                boolean lnStream = layout == ResidualLayout.POST_LN || layout == ResidualLayout.DEEPNORM;
                var rho = StudyResults.initMean(results, layout, init, d -> lnStream
                        ? d.residualMeanSquare()[d.residualMeanSquare().length - 1] : d.lemma2Rho()[d.lemma2Rho().length - 1]);
                var pert = StudyResults.initMean(results, layout, init, RunResult.InitDiagnostics::perturbation);
                md.append("| ").append(layout.id()).append(" |");
                for (int d : depths) {
                    md.append(g.containsKey(d) ? String.format(Locale.ROOT, " %.3g / %s%.3g / %.3g |", g.get(d),
                            lnStream ? "m=" : "", rho.get(d), pert.get(d)) : " |");
                }
                md.append('\n');
            }
            md.append('\n');
        }
    }
}
