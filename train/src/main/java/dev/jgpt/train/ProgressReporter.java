package dev.jgpt.train;

import dev.jgpt.common.Terminal;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * What {@code jgpt train} shows while it runs: a progress bar on stderr (on a terminal only; with the
 * loss, tokens/s and ETA) and one line per evaluation and the samples on stdout.
 */
public final class ProgressReporter implements Trainer.Listener, AutoCloseable {
    private final PrintStream out, err;
    private final boolean bar;
    private final int logInterval;
    private ProgressBar progress;
    private long lastDraw;
    private int iters;
    private boolean done;

    /**
     * @param bar         draw a progress bar on {@code err} (only sensible on a terminal)
     * @param logInterval also print a line every this many steps (0: only evaluations)
     */
    public ProgressReporter(PrintStream out, PrintStream err, boolean bar, int logInterval) {
        this.out = out;
        this.err = err;
        this.bar = bar;
        this.logInterval = logInterval;
    }


    @Override
    public void onStart(Trainer trainer, int startStep) {
        iters = trainer.config().iters();
    }

    @Override
    public void onStep(Trainer.StepStats s, double tokensPerS) {
        if (bar && progress == null && !done) {
            // Started at the first step, so the ETA is not skewed by the first evaluation (and JIT warm-up).
            progress = new ProgressBarBuilder().setTaskName("train").setInitialMax(iters)
                    .startsFrom(s.step(), Duration.ZERO).setUnit(" steps", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(err)).build();
        }
        if (progress != null) {
            progress.stepTo(s.step() + 1);
            long now = System.nanoTime();
            if (now - lastDraw > 200_000_000L) {
                lastDraw = now;
                progress.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %s tok/s", s.loss(), human(tokensPerS)));
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
        if (progress != null) {
            err.print("\r\033[K");
            err.flush();
        }
        out.println(s);
        out.flush();
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
