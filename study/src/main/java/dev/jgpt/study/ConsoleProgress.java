package dev.jgpt.study;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;

import java.util.List;

/**
 * A progress bar over the whole grid on stderr, weighted by each run's cost (depth × steps) so the ETA
 * holds while runs of very different sizes finish; the extra message is the last finished run.
 */
public final class ConsoleProgress implements StabilityStudy.Progress {
    private ProgressBar bar;

    @Override
    public synchronized void started(List<RunSpec> runs) {
        long total = runs.stream().mapToLong(ConsoleProgress::units).sum();
        bar = new ProgressBarBuilder().setTaskName("stability " + runs.size() + " runs")
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(1000)
                .setConsumer(new ConsoleProgressBarConsumer(System.err, 120))
                .build();
    }

    @Override
    public synchronized void finished(RunResult r) {
        bar.stepBy(units(r.spec()));
        RunSpec s = r.spec();
        bar.setExtraMessage(s.layout().id() + " L" + s.depth() + " " + s.init().id() + ": " + r.verdict());
    }

    @Override
    public void message(String line) {
        System.out.println(line);
    }

    @Override
    public synchronized void done() {
        if (bar != null) {
            bar.close();
        }
    }

    private static long units(RunSpec s) {
        return Math.max(1, Math.round(StudyGrid.cost(s)));
    }
}
