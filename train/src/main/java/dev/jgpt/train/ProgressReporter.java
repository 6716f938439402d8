package dev.jgpt.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * What {@code jgpt train} shows while it runs: a progress bar (on a terminal only; with the loss,
 * tokens/s and ETA) and one line per evaluation and the samples on stdout.
 */
public final class ProgressReporter implements Trainer.Listener, AutoCloseable {
    private final PrintStream out, bar;
    private final int logInterval;
    /** The bar is redrawn from its own thread: a line and a redraw must not interleave. */
    private final Object drawing = new Object();
    private ProgressBar progress;
    private long lastDraw;
    private int iters;
    private boolean done;

    /**
     * @param bar         where to draw a progress bar, or null for none: only a terminal, and best the
     *                    one {@code out} goes to, so that lines and redraws arrive in the order written
     * @param logInterval also print a line every this many steps (0: only evaluations)
     */
    public ProgressReporter(PrintStream out, PrintStream bar, int logInterval) {
        this.out = out;
        this.bar = bar;
        this.logInterval = logInterval;
    }


    @Override
    public void onStart(Trainer trainer, int startStep) {
        iters = trainer.config().iters();
    }

    @Override
    public void onStep(Trainer.StepStats s, double tokensPerS) {
        if (bar != null && progress == null && !done) {
            // Started at the first step, so the ETA is not skewed by the first evaluation (and JIT warm-up).
            progress = new ProgressBarBuilder().setTaskName("train").setInitialMax(iters)
                    .startsFrom(s.step(), Duration.ZERO).setUnit(" steps", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(bar) {
                        @Override
                        public void accept(String rendered) {
                            synchronized (drawing) {
                                super.accept(rendered);
                            }
                        }
                    }).build();
        }
        if (progress != null) {
            progress.stepTo(s.step() + 1);
            long now = System.nanoTime();
            if (now - lastDraw > 200_000_000L || s.step() + 1 == iters) {
                lastDraw = now;
                progress.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %s tok/s", s.loss(), human(tokensPerS)));
            }
            if (s.step() + 1 == iters) {
                closeBar(); // complete, above the final evaluation's line
            }
        }
        if (logInterval > 0 && (s.step() + 1) % logInterval == 0) {
            line(String.format(Locale.ROOT, "step %d: loss %.4f, grad norm %.3f, lr %.2e, %s tokens/s",
                    s.step() + 1, s.loss(), s.gradNorm(), s.lr(), human(tokensPerS)));
        }
    }

    @Override
    public void onEval(MetricsLog.Point p) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d: train loss %.4f, val loss %.4f",
                p.step(), p.trainLoss(), p.valLoss()));
        if (Double.isFinite(p.lr())) {
            sb.append(String.format(Locale.ROOT, ", lr %.2e, grad norm %.3f", p.lr(), p.gradNorm()));
        }
        if (Double.isFinite(p.tokensPerS())) {
            sb.append(", ").append(human(p.tokensPerS())).append(" tokens/s");
        }
        sb.append(String.format(Locale.ROOT, ", %.1f s", p.elapsedS()));
        line(sb.toString());
    }

    @Override
    public void onCheckpoint(int step, Path dir) {
    }

    @Override
    public void onSample(int index, String text) {
        closeBar();
        out.println("--- sample " + (index + 1) + " ---");
        out.println(text);
        out.flush();
    }

    /** Prints a line on stdout without leaving bar fragments on a terminal. */
    private void line(String s) {
        synchronized (drawing) {
            if (progress != null) {
                bar.print("\r\033[K");
                bar.flush();
            }
            out.println(s);
            out.flush();
        }
    }

    static String human(double tokensPerS) {
        if (!Double.isFinite(tokensPerS)) {
            return "-";
        }
        return tokensPerS >= 10_000 ? String.format(Locale.ROOT, "%.1fk", tokensPerS / 1000)
                : String.format(Locale.ROOT, "%.0f", tokensPerS);
    }

    private void closeBar() {
        done = true;
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }

    @Override
    public void close() {
        closeBar();
    }
}
