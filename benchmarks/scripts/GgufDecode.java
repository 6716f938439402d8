import dev.jgpt.bench.DecodeBench;
import dev.jgpt.infer.Sampler;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.model.GPT;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.Quantize;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.io.gguf.GgufFile;
import dev.jgpt.model.io.gguf.GgufModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * jgpt's side of {@code llamacpp_decode.mjs --model FILE}: the same GGUF file decoded under the same protocol,
 * wall clock, so the two rates compare. Prefill: a 64-token prompt (the script's ids) into an empty cache,
 * the median of the rounds after 3 warm-up ones (at least 8, for the given seconds). Decode: greedy from a
 * 64-token prefix over positions 64..191, cut back to the prefix at 192; after one warm-up pass, the median
 * rate of 16-token chunks (at least 5, for the given seconds). A single-file program on the benchmarks jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar benchmarks/scripts/GgufDecode.java FILE.gguf [threads=2] [seconds=10] [weights]
 * </pre>
 * {@code weights} (q8_0, q4_k, ...) quantizes an f32 file's matrices on load, as {@code jgpt generate --weights} does
 * (the same bytes as {@code jgpt export --type}), so types compare on one file.
 */
public class GgufDecode {
    static final int PREFIX = 64, END = PREFIX + 128;
    static final Sampler GREEDY = Sampler.greedy();

    public static void main(String[] a) throws Exception {
        Path file = Path.of(a[0]);
        int threads = a.length > 1 ? Integer.parseInt(a[1]) : 2;
        double seconds = a.length > 2 ? Double.parseDouble(a[2]) : 10;
        Parallel.setThreads(threads);
        try (GgufFile f = GgufFile.open(file)) {
            GPT gpt = a.length > 3 ? Quantize.packed(GgufModel.load(f), WeightType.parse(a[3])) : GgufModel.load(f);
            int[] prompt = prompt(gpt.config.vocabSize());
            InferenceSession s = new InferenceSession(gpt, 256);

            List<Double> prefill = new ArrayList<>();
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            for (int i = 0; i < 8 || System.nanoTime() < deadline; i++) {
                s.reset();
                long t0 = System.nanoTime();
                s.append(prompt);
                if (i >= 3) {
                    prefill.add(PREFIX / ((System.nanoTime() - t0) / 1e9));
                }
            }

            s.reset();
            s.append(prompt);
            int[] next = {prompt[PREFIX - 1]};   // as the script: the last prompt id is fed again at position 64
            decode(s, next, END - PREFIX);   // warm-up: one pass over the positions
            List<Double> rates = new ArrayList<>();
            deadline = System.nanoTime() + (long) (seconds * 1e9);
            while (rates.size() < 5 || System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                decode(s, next, 16);
                rates.add(16 / ((System.nanoTime() - t0) / 1e9));
            }
            System.out.printf(Locale.ROOT, "jgpt %s%s threads %d: %.1f MB per token, prefill(64) %.1f tok/s, decode %.2f tok/s, "
                    + "decode positions %d..%d%n", file.getFileName(), a.length > 3 ? " as " + a[3] : "", threads, DecodeBench.bytesPerToken(gpt) / 1e6,
                    median(prefill), median(rates), PREFIX, END - 1);
        }
    }

    /** The 64-token prompt, llamacpp_decode.mjs's generator. */
    static int[] prompt(int vocab) {
        int[] prompt = new int[PREFIX];
        long r = 7;
        for (int i = 0; i < prompt.length; i++) {
            r = (r * 1103515245L + 12345) % 2147483648L;
            prompt[i] = (int) (r % vocab);
        }
        return prompt;
    }

    /** Greedy, {@code steps} tokens, wrapping from position END back to PREFIX. */
    static void decode(InferenceSession s, int[] next, int steps) {
        for (int i = 0; i < steps; i++) {
            if (s.position() >= END) {
                s.truncate(PREFIX);
            }
            next[0] = GREEDY.sample(s.append(next[0]), s.model().config.vocabSize());
        }
    }

    static double median(List<Double> xs) {
        double[] v = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
