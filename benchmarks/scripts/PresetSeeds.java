import dev.jgpt.common.AtomicFiles;
import dev.jgpt.model.Evaluation;
import dev.jgpt.train.MetricsLog;
import dev.jgpt.train.TrainConfig;
import dev.jgpt.train.TrainData;
import dev.jgpt.train.Trainer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Presets side by side over seeds: trains each preset's whole recipe on tiny Shakespeare once per seed,
 * one run after another in this JVM, and writes OUT/presets.jsonl (one line a run: the final train loss,
 * the val loss on the recipe's 20 evaluation batches and over the whole val split, training tokens/s,
 * parameters) and OUT/presets.png (every run's val curve), each run's directory beside them.
 *
 * <pre>
 * J="java --add-modules jdk.incubator.vector -Xmx2g -cp benchmarks/target/benchmarks.jar"
 * $J benchmarks/scripts/PresetSeeds.java ../shared/data/tinyshakespeare.txt /tmp/presets [baby,baby-llama] [1337,1,2]
 * </pre>
 *
 * Tokens/s of runs in one JVM, one after another, are comparable with each other only roughly (the
 * machine's load changes); TrainBench measures the step speeds properly.
 */
public class PresetSeeds {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: PresetSeeds.java TEXT OUT [presets] [seeds]");
        }
        String text = args[0];
        Path out = Path.of(args[1]);
        List<String> presets = List.of((args.length > 2 ? args[2] : "baby,baby-llama").split(","));
        List<Long> seeds = List.of((args.length > 3 ? args[3] : "1337,1,2").split(",")).stream().map(Long::parseLong).toList();
        Files.createDirectories(out);
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560).title("val loss, tiny Shakespeare (char)")
                .xAxisTitle("step").yAxisTitle("val loss (nats/char)").build();
        StringBuilder jsonl = new StringBuilder();
        for (String preset : presets) {
            for (long seed : seeds) {
                TrainConfig cfg = TrainConfig.preset(preset).toBuilder().data(text).seed(seed).build();
                Path dir = out.resolve(preset + "-seed" + seed);
                try (TrainData data = TrainData.load(cfg.data(), cfg.tokenizer());
                     Trainer trainer = Trainer.start(cfg, data, dir, true)) {
                    Trainer.Result r = trainer.run(new Trainer.Listener() {});
                    double wholeVal = Evaluation.meanLoss(trainer.model(), data.val).loss();
                    String line = String.format(Locale.ROOT, "{\"preset\": \"%s\", \"seed\": %d, \"params\": %d, \"steps\": %d, "
                                    + "\"train_loss\": %.4f, \"val_loss\": %.4f, \"val_loss_whole_split\": %.4f, \"tokens_per_s\": %.0f}",
                            preset, seed, trainer.model().parameterCount(), r.steps(), r.trainLoss(), r.valLoss(), wholeVal,
                            r.tokensPerS());
                    System.out.println(line);
                    jsonl.append(line).append('\n');
                    List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                    for (MetricsLog.Point p : new MetricsLog(dir).read()) {
                        if (Double.isFinite(p.valLoss())) {
                            x.add((double) p.step());
                            y.add(p.valLoss());
                        }
                    }
                    chart.addSeries(preset + " seed " + seed, x, y).setMarker(SeriesMarkers.CIRCLE);
                }
            }
        }
        AtomicFiles.writeString(out.resolve("presets.jsonl"), jsonl.toString());
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(out.resolve("presets.png"), png);
        System.out.println("wrote " + out.resolve("presets.jsonl") + " and " + out.resolve("presets.png"));
    }
}
