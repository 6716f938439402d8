package dev.jgpt.cli;

import dev.jgpt.kernel.Parallel;
import dev.jgpt.study.Lesions;
import dev.jgpt.study.ModelLesions;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "lesion", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Delete blocks of a trained model at test time and measure the loss (Veit et al. 2016): each "
                + "block alone, then k random blocks for k = 0..L. A deleted block is the identity: its input goes on "
                + "to the next block.",
                "Writes DIR/lesion.jsonl, DIR/report.md and PNG+SVG plots (loss increase per deleted block, loss against k)."})
final class LesionCommand implements Callable<Integer> {
    @Mixin
    MeasuredModelOptions io;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "32768",
            description = "Evaluate on the first N validation tokens (default ${DEFAULT-VALUE}).")
    long tokens;

    @Option(names = "--draws", paramLabel = "N", defaultValue = "8",
            description = "Random subsets per k (every subset when there are at most N; default ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Picks the random subsets (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        Parallel.setThreads(io.check());
        ProgressBar[] bar = new ProgressBar[1];
        Lesions.Progress progress = (done, total) -> {
            if (bar[0] == null) {
                bar[0] = new ProgressBarBuilder().setTaskName("lesion").setInitialMax(total)
                        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(1000)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err, 100)).build();
            }
            bar[0].stepTo(done);
        };
        ModelLesions.Outcome o;
        try {
            o = ModelLesions.run(io.model, io.data(), tokens, draws, seed, io.out, progress);
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
        }
        var r = o.record().lesion();
        System.out.printf(Locale.ROOT, "jgpt lesion: %s (%s, %d blocks) on %s, %,d tokens%n", io.model, o.record().layout().id(),
                o.record().depth(), o.data(), o.tokens());
        System.out.printf(Locale.ROOT, "loss %.4f with every block; unigram loss %.4f (%s)%n", r.loss(), r.reference(),
                o.referenceKind());
        StringBuilder single = new StringBuilder("deleting one block:");
        for (int l = 0; l < r.depth(); l++) {
            single.append(String.format(Locale.ROOT, " %d: %+.3f", l + 1, r.single()[l] - r.loss()));
        }
        System.out.println(single);
        StringBuilder byK = new StringBuilder("mean loss with k blocks deleted:");
        for (Lesions.Deletions d : r.byK()) {
            byK.append(String.format(Locale.ROOT, " k=%d %.3f", d.k(), d.mean()));
        }
        System.out.println(byK);
        System.out.printf("wrote %s, %s and %s (PNG, SVG)%n", io.out.resolve("lesion.jsonl"), o.report(),
                String.join(", ", o.plots()));
        return 0;
    }
}
