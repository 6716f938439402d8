package dev.jgpt.study;

import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.study.StudyResults.Cell;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The pass/fail figure: depth × lr columns, one row per training regime (steps, clipping, LayerDrop; named only
 * when the study has several), init, warmup and layout; each cell coloured by its seeds' majority verdict and
 * labelled with their verdicts ({@link StudyResults#cellText}).
 */
final class PassFailTable {
    private static final Color TRAINED = new Color(0x7BC67B), SLOW = new Color(0xF3D26B),
            STUCK = new Color(0xE8736C), DIVERGED = new Color(0x8E6BBF), MIXED = new Color(0xC9C9C9);
    private static final int CELL_W = 92, CELL_H = 26, TOP = 84, BOTTOM = 46;

    private final String title;
    private final List<String> rowLabels = new ArrayList<>();
    private final List<String> colLabels = new ArrayList<>();
    private final List<List<List<RunResult>>> cells = new ArrayList<>();

    /** The table of these results' training cells, titled "Verdict per cell" and {@code subtitle} when given. */
    PassFailTable(List<RunResult> results, String subtitle) {
        this.title = "Verdict per cell" + (subtitle.isEmpty() ? "" : ", " + subtitle) + ": one letter per seed";
        var byCell = StudyResults.cells(results);
        TreeSet<Integer> depths = new TreeSet<>();
        TreeSet<Double> lrs = new TreeSet<>();
        TreeSet<InitScheme> inits = new TreeSet<>();
        TreeSet<Boolean> warmups = new TreeSet<>();
        TreeSet<ResidualLayout> layouts = new TreeSet<>();
        TreeSet<StudyResults.Regime> regimes = new TreeSet<>();
        byCell.keySet().forEach(c -> {
            depths.add(c.depth());
            lrs.add(c.lr());
            inits.add(c.init());
            warmups.add(c.warmup());
            layouts.add(c.layout());
            regimes.add(c.regime());
        });
        for (int d : depths) {
            for (double lr : lrs) {
                colLabels.add(String.format(Locale.ROOT, "L%d lr %.0e", d, lr));
            }
        }
        for (StudyResults.Regime regime : regimes) {
            for (InitScheme init : List.of(InitScheme.XAVIER, InitScheme.GPT2)) {
                if (!inits.contains(init)) {
                    continue;
                }
                for (boolean w : warmups) {
                    for (ResidualLayout layout : layouts) {
                        List<List<RunResult>> row = new ArrayList<>();
                        boolean any = false;
                        for (int d : depths) {
                            for (double lr : lrs) {
                                List<RunResult> runs = byCell.getOrDefault(new Cell(layout, d, lr, w, init, regime), List.of());
                                row.add(runs);
                                any |= !runs.isEmpty();
                            }
                        }
                        if (any) { // a part of the study may train only some layouts, inits or warmups
                            rowLabels.add((regimes.size() > 1 ? regime.label() + " · " : "") + init.id() + " · "
                                    + (w ? "warmup" : "no warmup") + " · " + layout.id());
                            cells.add(row);
                        }
                    }
                }
            }
        }
    }

    /** Writes dir/name.png and dir/name.svg. */
    void write(Path dir, String name) throws IOException {
        Chart.writeFigure(dir, name, width(), height(), this::draw);
    }

    /** Room for the longest row label (about 7 pixels per character at 12 points). */
    private int labelWidth() {
        return Math.max(250, 20 + 7 * rowLabels.stream().mapToInt(String::length).max().orElse(0));
    }

    private int width() {
        return Math.max(660, labelWidth() + CELL_W * colLabels.size() + 20);
    }

    private int height() {
        return TOP + CELL_H * rowLabels.size() + BOTTOM;
    }

    private void draw(Graphics2D g) {
        int labelW = labelWidth();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width(), height());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, 10, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("T trained, s slow, S stuck, D@step diverged; then the mean validation loss (nats)", 10, 44);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        FontMetrics fm = g.getFontMetrics();
        for (int j = 0; j < colLabels.size(); j++) {
            String s = colLabels.get(j);
            g.drawString(s, labelW + j * CELL_W + (CELL_W - fm.stringWidth(s)) / 2, TOP - 10);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        fm = g.getFontMetrics();
        for (int i = 0; i < rowLabels.size(); i++) {
            int y = TOP + i * CELL_H;
            g.setColor(Color.BLACK);
            g.drawString(rowLabels.get(i), 10, y + CELL_H / 2 + fm.getAscent() / 2 - 2);
            for (int j = 0; j < colLabels.size(); j++) {
                List<RunResult> runs = cells.get(i).get(j);
                int x = labelW + j * CELL_W;
                g.setColor(runs.isEmpty() ? Color.WHITE : colour(runs));
                g.fillRect(x, y, CELL_W, CELL_H);
                g.setColor(Color.WHITE);
                g.setStroke(new BasicStroke(2f));
                g.drawRect(x, y, CELL_W, CELL_H);
                if (!runs.isEmpty()) {
                    String text = StudyResults.cellText(runs);
                    g.setColor(Color.BLACK);
                    g.drawString(text, x + (CELL_W - fm.stringWidth(text)) / 2, y + CELL_H / 2 + fm.getAscent() / 2 - 2);
                }
            }
            // a rule between init/warmup groups
            if (i > 0 && !group(rowLabels.get(i)).equals(group(rowLabels.get(i - 1)))) {
                g.setColor(Color.BLACK);
                g.setStroke(new BasicStroke(1.5f));
                g.drawLine(8, y, labelW + CELL_W * colLabels.size(), y);
            }
        }
        int y = TOP + CELL_H * rowLabels.size() + 26;
        int x = 10;
        String[] names = {"trained (majority)", "slow", "stuck", "diverged", "mixed"};
        Color[] colours = {TRAINED, SLOW, STUCK, DIVERGED, MIXED};
        for (int k = 0; k < names.length; k++) {
            g.setColor(colours[k]);
            g.fillRect(x, y - 12, 18, 14);
            g.setColor(Color.BLACK);
            g.drawString(names[k], x + 24, y);
            x += 40 + fm.stringWidth(names[k]);
        }
    }

    private static String group(String rowLabel) {
        return rowLabel.substring(0, rowLabel.lastIndexOf(" · "));
    }

    /** The verdict most seeds share, or mixed. */
    private static Color colour(List<RunResult> runs) {
        long n = runs.size();
        if (StudyResults.count(runs, RunResult.TRAINED) * 2 > n) {
            return TRAINED;
        }
        if (StudyResults.count(runs, RunResult.DIVERGED) * 2 > n) {
            return DIVERGED;
        }
        if (StudyResults.count(runs, RunResult.STUCK) * 2 > n) {
            return STUCK;
        }
        return StudyResults.count(runs, RunResult.SLOW) * 2 > n ? SLOW : MIXED;
    }
}
