package dev.jgpt.study;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Plots of loss surfaces: lines (XChart, as the study's) and the 2-D surface as a filled contour plot — a heat
 * map of the loss with iso-loss lines traced by marching squares (XChart has no contour chart), drawn on
 * Graphics2D so it is written as PNG and SVG like every other figure.
 */
public final class LandscapePlots {
    private static final int WIDTH = 760, HEIGHT = 640, LEFT = 70, TOP = 50, SIDE = 500, BAR = 18;
    /** Iso-loss lines between the minimum and the colour scale's top. */
    static final int LEVELS = 12;
    /** Viridis at five stops. */
    private static final Color[] RAMP = {new Color(0x440154), new Color(0x3B528B), new Color(0x21908C),
            new Color(0x5DC863), new Color(0xFDE725)};

    private LandscapePlots() {
    }

    /** One surface along a line, with a legend name. */
    public record Curve(String name, Landscape.Line line) {
    }

    /** Loss against α for each curve (colours cycle through the study's palette). */
    static Chart line(String title, List<Curve> curves) {
        Chart c = new Chart(title, "α (step along the direction, in units of the weights' filter norms)", "loss (nats)",
                false, false);
        Color[] palette = {new Color(0x1F77B4), new Color(0xD62728), new Color(0x2CA02C), new Color(0x9467BD),
                new Color(0xFF7F0E), new Color(0x8C564B), new Color(0x17BECF), new Color(0xE377C2), new Color(0x7F7F7F)};
        for (int i = 0; i < curves.size(); i++) {
            Landscape.Line l = curves.get(i).line();
            c.series(curves.get(i).name(), boxed(l.alphas()), boxed(l.losses()), palette[i % palette.length]);
        }
        return c;
    }

    /** The ODE view: each block's relative update at x = l, and the cosine of blocks l and l + 1's updates at l + ½. */
    static Chart steps(String title, Diagnostics.BlockSteps steps) {
        Chart c = new Chart(title, "block (1-based; cosines between neighbours)", "", false, false);
        double[] rel = steps.relativeUpdate(), cos = steps.cosine();
        List<Double> x = new ArrayList<>(), xc = new ArrayList<>();
        for (int l = 0; l < rel.length; l++) {
            x.add(l + 1.0);
        }
        for (int l = 0; l < cos.length; l++) {
            xc.add(l + 1.5);
        }
        c.series("‖x_{l+1} − x_l‖ / ‖x_l‖", x, boxed(rel), new Color(0x1F77B4));
        if (cos.length > 0) {
            c.series("cos(Δx_l, Δx_{l+1})", xc, boxed(cos), new Color(0xD62728));
        }
        return c;
    }

    private static List<Double> boxed(double[] a) {
        return Arrays.stream(a).boxed().toList();
    }

    /** The colour scale's top: the 90th percentile of the finite losses, so a few huge values far out do not flatten the rest. */
    static double[] scale(double[][] losses) {
        double[] all = Arrays.stream(losses).flatMapToDouble(Arrays::stream).filter(Double::isFinite).sorted().toArray();
        if (all.length == 0) {
            return new double[] {0, 1};
        }
        double lo = all[0], hi = all[(int) Math.floor(0.9 * (all.length - 1))];
        return new double[] {lo, hi > lo ? hi : lo + 1};
    }

    /**
     * Iso-lines of {@code f} (on the grid xs × ys, f[i][j] at (xs[i], ys[j])) at {@code level}, as segments
     * {x1, y1, x2, y2}: marching squares with linear interpolation along cell edges; a saddle cell is split by its
     * centre value.
     */
    static List<double[]> isoLines(double[] xs, double[] ys, double[][] f, double level) {
        List<double[]> segments = new ArrayList<>();
        for (int i = 0; i + 1 < xs.length; i++) {
            for (int j = 0; j + 1 < ys.length; j++) {
                // corners counter-clockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1)
                double[] v = {f[i][j], f[i + 1][j], f[i + 1][j + 1], f[i][j + 1]};
                double[][] p = {{xs[i], ys[j]}, {xs[i + 1], ys[j]}, {xs[i + 1], ys[j + 1]}, {xs[i], ys[j + 1]}};
                if (!(Double.isFinite(v[0]) && Double.isFinite(v[1]) && Double.isFinite(v[2]) && Double.isFinite(v[3]))) {
                    continue;
                }
                List<double[]> crossings = new ArrayList<>(4);
                for (int e = 0; e < 4; e++) {
                    double a = v[e], b = v[(e + 1) % 4];
                    if ((a < level) != (b < level)) {
                        double t = (level - a) / (b - a);
                        double[] pa = p[e], pb = p[(e + 1) % 4];
                        crossings.add(new double[] {pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1])});
                    }
                }
                if (crossings.size() == 2) {
                    segments.add(new double[] {crossings.get(0)[0], crossings.get(0)[1], crossings.get(1)[0], crossings.get(1)[1]});
                } else if (crossings.size() == 4) {
                    // edges 0-1, 1-2, 2-3, 3-0 all crossed: pair them so the centre's side stays connected
                    boolean centreBelow = (v[0] + v[1] + v[2] + v[3]) / 4 < level;
                    boolean firstBelow = v[0] < level;
                    int[][] pairs = centreBelow == firstBelow ? new int[][] {{0, 1}, {2, 3}} : new int[][] {{3, 0}, {1, 2}};
                    for (int[] q : pairs) {
                        double[] a = crossings.get(q[0]), b = crossings.get(q[1]);
                        segments.add(new double[] {a[0], a[1], b[0], b[1]});
                    }
                }
            }
        }
        return segments;
    }

    /** The 2-D surface as a filled contour plot, written as dir/name.png and dir/name.svg. */
    static void contour(String title, Landscape.Plane plane, Path dir, String name) throws IOException {
        Chart.writeFigure(dir, name, WIDTH, HEIGHT, g -> paintContour(g, title, plane));
    }

    private static void paintContour(Graphics2D g, String title, Landscape.Plane plane) {
        double[] xs = plane.alphas(), ys = plane.betas();
        double[][] f = plane.losses();
        double[] range = scale(f);
        double x0 = xs[0], x1 = xs[xs.length - 1], y0 = ys[0], y1 = ys[ys.length - 1];
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fill(new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(title, 10, 24);
        // heat map: one cell per grid point, centred on it
        double cw = SIDE / (double) xs.length, ch = SIDE / (double) ys.length;
        for (int i = 0; i < xs.length; i++) {
            for (int j = 0; j < ys.length; j++) {
                g.setColor(colour((f[i][j] - range[0]) / (range[1] - range[0])));
                g.fill(new Rectangle2D.Double(LEFT + i * cw, TOP + SIDE - (j + 1) * ch, cw + 0.5, ch + 0.5));
            }
        }
        // iso-loss lines, in plot coordinates: grid point i sits at the centre of cell i
        g.setStroke(new BasicStroke(1.2f));
        g.setColor(new Color(255, 255, 255, 200));
        for (int k = 1; k <= LEVELS; k++) {
            double level = range[0] + k * (range[1] - range[0]) / (LEVELS + 1);
            for (double[] s : isoLines(xs, ys, f, level)) {
                g.draw(new Line2D.Double(px(s[0], x0, x1, cw), py(s[1], y0, y1, ch), px(s[2], x0, x1, cw), py(s[3], y0, y1, ch)));
            }
        }
        // the weights themselves
        g.setColor(Color.RED);
        double cx = px(0, x0, x1, cw), cy = py(0, y0, y1, ch);
        g.fill(new java.awt.geom.Ellipse2D.Double(cx - 4, cy - 4, 8, 8));
        // frame, ticks and axis titles
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1f));
        g.draw(new Rectangle2D.Double(LEFT, TOP, SIDE, SIDE));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (int t = 0; t <= 4; t++) {
            double v = x0 + t * (x1 - x0) / 4;
            String s = Chart.number(v);
            double x = px(v, x0, x1, cw), y = py(y0 + t * (y1 - y0) / 4, y0, y1, ch);
            g.draw(new Line2D.Double(x, TOP + SIDE, x, TOP + SIDE + 5));
            g.drawString(s, (float) (x - fm.stringWidth(s) / 2.0), TOP + SIDE + 20);
            String sy = Chart.number(y0 + t * (y1 - y0) / 4);
            g.draw(new Line2D.Double(LEFT - 5, y, LEFT, y));
            g.drawString(sy, (float) (LEFT - 8 - fm.stringWidth(sy)), (float) (y + 4));
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString("α (direction 1)", LEFT + SIDE / 2f - 40, TOP + SIDE + 42);
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString("β (direction 2)", -(TOP + SIDE / 2f + 45), 18);
        r.dispose();
        // colour bar
        int bx = LEFT + SIDE + 30;
        for (int p = 0; p < SIDE; p++) {
            g.setColor(colour(1 - p / (double) SIDE));
            g.fill(new Rectangle2D.Double(bx, TOP + p, BAR, 1.5));
        }
        g.setColor(Color.BLACK);
        g.draw(new Rectangle2D.Double(bx, TOP, BAR, SIDE));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int t = 0; t <= 4; t++) {
            double v = range[0] + t * (range[1] - range[0]) / 4;
            float y = (float) (TOP + SIDE - t * SIDE / 4.0);
            g.draw(new Line2D.Double(bx + BAR, y, bx + BAR + 4, y));
            g.drawString(Chart.number(v), bx + BAR + 7, y + 4);
        }
        g.drawString("loss (nats)", bx - 6, TOP - 8);
    }

    private static double px(double x, double x0, double x1, double cw) {
        return LEFT + cw / 2 + (x - x0) / (x1 - x0) * (SIDE - cw);
    }

    private static double py(double y, double y0, double y1, double ch) {
        return TOP + SIDE - ch / 2 - (y - y0) / (y1 - y0) * (SIDE - ch);
    }

    /** The ramp at t ∈ [0, 1] (clamped; NaN is grey). */
    static Color colour(double t) {
        if (Double.isNaN(t)) {
            return Color.GRAY;
        }
        double u = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
        int k = Math.min((int) u, RAMP.length - 2);
        double w = u - k;
        Color a = RAMP[k], b = RAMP[k + 1];
        return new Color((int) Math.round(a.getRed() + w * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + w * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + w * (b.getBlue() - a.getBlue())));
    }
}
