import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.io.gguf.GgufFile;
import dev.jgpt.model.io.gguf.GgufModel;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a GGUF file's decode time goes: GgufDecode.java's decode (its methods, found beside this file by the
 * source launcher of JDK 22 or later; 64-token prompt, greedy over positions 64..191)
 * after one warm-up pass, with JFR sampling the calling thread every millisecond. That thread takes its share of
 * every parallel product, so its samples split the wall time; each is charged to the model's call site (the
 * innermost model frame outside Linear, Param and Layer: SwiGluMlp.hidden is gate and up, SwiGluMlp.forwardPlus the down
 * projection, CausalSelfAttention.attend q/k/v, GPT.forwardCached the head) and to the innermost kernel class
 * (Q4_K, Q6_K, ...; "wait" when it waits for the other threads at a product's end).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/scripts/GgufProfile.java FILE.gguf [threads=2] [seconds=20]
 * </pre>
 */
public class GgufProfile {
    public static void main(String[] a) throws Exception {
        Path file = Path.of(a[0]);
        int threads = a.length > 1 ? Integer.parseInt(a[1]) : 2;
        double seconds = a.length > 2 ? Double.parseDouble(a[2]) : 20;
        Parallel.setThreads(threads);
        try (GgufFile f = GgufFile.open(file)) {
            GPT gpt = GgufModel.load(f);
            int[] prompt = GgufDecode.prompt(gpt.config.vocabSize());
            InferenceSession s = new InferenceSession(gpt, 256);
            s.append(prompt);
            int[] next = {prompt[prompt.length - 1]};
            GgufDecode.decode(s, next, GgufDecode.END - GgufDecode.PREFIX);   // warm-up: one pass over the positions
            Path jfr = Files.createTempFile("jgpt-decode", ".jfr");
            int tokens = 0;
            double wall;
            try (Recording rec = new Recording()) {
                rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1)).withStackTrace();
                rec.start();
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < seconds * 1e9) {
                    GgufDecode.decode(s, next, 16);
                    tokens += 16;
                }
                wall = (System.nanoTime() - t0) / 1e9;
                rec.stop();
                rec.dump(jfr);
            }
            Map<String, Integer> bySite = new TreeMap<>();
            int samples = 0;
            String main = Thread.currentThread().getName();
            for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
                if (e.getThread("sampledThread") == null || !main.equals(e.getThread("sampledThread").getJavaName())
                        || e.getStackTrace() == null) {
                    continue;
                }
                bySite.merge(classify(e.getStackTrace().getFrames()), 1, Integer::sum);
                samples++;
            }
            Files.deleteIfExists(jfr);
            System.out.printf(Locale.ROOT, "%s, %d threads: %.2f tok/s over %d tokens (with JFR sampling), %d samples of the calling thread%n",
                    file.getFileName(), threads, tokens / wall, tokens, samples);
            System.out.println("| call site | kernel | % of decode | ms per token |");
            System.out.println("| --- | --- | ---: | ---: |");
            int total = samples;
            double msPerToken = 1e3 * wall / tokens;
            bySite.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).filter(en -> en.getValue() * 500 >= total)
                    .forEach(en -> {
                        String[] k = en.getKey().split("\t");
                        System.out.printf(Locale.ROOT, "| %s | %s | %.1f%% | %.2f |%n", k[0], k[1], 100.0 * en.getValue() / total,
                                msPerToken * en.getValue() / total);
                    });
        }
    }

    /** Model classes every product passes through (Layer's default forwardPlus among them), so no call site. */
    static final java.util.Set<String> PLUMBING = java.util.Set.of("Linear", "Param", "Layer");

    /** "site \t kernel": the innermost model frame outside {@link #PLUMBING}, and the innermost kernel class. */
    static String classify(List<RecordedFrame> frames) {
        String site = "(other)", kernel = "(other)";
        for (RecordedFrame fr : frames) {   // innermost first
            String cls = fr.getMethod().getType().getName();
            String simple = cls.substring(cls.lastIndexOf('.') + 1);
            if (kernel.equals("(other)") && cls.startsWith("dev.jgpt.kernel.")) {
                kernel = simple.startsWith("Parallel") ? "wait" : simple;
            }
            if (cls.startsWith("dev.jgpt.model.") && !PLUMBING.contains(simple)) {
                site = simple + "." + fr.getMethod().getName();
                break;
            }
        }
        return site + "\t" + kernel;
    }
}
