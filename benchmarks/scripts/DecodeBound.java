import dev.jgpt.bench.Placement;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.Sampler;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.io.ModelDir;
import jdk.incubator.vector.FloatVector;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jgpt.bench.Summary.max;
import static dev.jgpt.bench.Summary.median;
import static dev.jgpt.bench.Summary.min;

/**
 * Decode of GPT-2 124M (random f32 weights, on the heap) over whole 512-token generations on N threads, each as a
 * percentage of the read-bandwidth bound measured right before it in the same process: {@code Limits.java}'s
 * streaming sum (a 512 MB array, a contiguous part per thread, four accumulators), as GB/s, divided by the bytes a
 * token reads (every weight once). On a VM whose memory bandwidth swings with its neighbours (here 2x between
 * windows: Limits measured 64 then 33 GB/s on 2 threads) a bound taken once says little about a decode timed later;
 * taken in turns, their ratio holds. A single-file program on the benchmarks jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -XX:+UseTransparentHugePages -Xmx4g \
 *     -cp benchmarks/target/benchmarks.jar benchmarks/scripts/DecodeBound.java [threads] [rounds] [DIR [CACHE [ONLY]]]
 * </pre>
 *
 * With a GPT-2 124M model directory DIR (e.g. the one {@code ttft.sh} writes), the generations alternate between
 * its weights loaded into the heap and used in place from the mapped file, as {@code jgpt generate} does without a
 * weight cache; with a folder CACHE also with its Conv1D weights row-major from a side file there (written first if
 * missing), as {@code jgpt generate} does by default. A fifth argument ONLY ({@code heap}, {@code mapped} or
 * {@code side}) times that one alone: the same products over heap and over mapped weights in one process make
 * their call sites see two kinds of memory segment, which slowed the mapped ones (run each in a process of its own).
 * Each round names where the two threads ran ({@code Placement}: one CCD, two with twice the bandwidth, or one core), and
 * the summary is per placement.
 */
public class DecodeBound {
    public static void main(String[] args) throws java.io.IOException {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2, rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Parallel.setThreads(threads);
        GPTConfig cfg = GPTConfig.gpt2Small();
        Path dir = args.length > 2 ? Path.of(args[2]) : null;
        String only = args.length > 4 ? (args[4].equals("side") ? "side file" : args[4]) : null;
        List<String> names = new ArrayList<>();
        List<InferenceSession> sessions = new ArrayList<>();
        if (dir == null) {
            names.add("heap");
            sessions.add(new InferenceSession(new GPT(cfg, 1)));
        } else {
            names.addAll(args.length > 3 ? List.of("heap", "mapped", "side file") : List.of("heap", "mapped"));
            if (only != null) {
                if (!names.contains(only)) {
                    throw new IllegalArgumentException("ONLY must be one of " + names + ", got " + only);
                }
                names.retainAll(List.of(only));
            }
            for (String name : names) {
                sessions.add(new InferenceSession(switch (name) {
                    case "heap" -> ModelDir.load(dir);
                    case "mapped" -> ModelDir.loadMapped(dir);
                    default -> ModelDir.loadMapped(dir, Path.of(args[3]), System.err::println);
                }));
            }
        }
        double gbPerToken = 4.0 * sessions.getFirst().model().parameterCount() / 1e9;
        Sampler sampler = GenerationOptions.builder().seed(7).build().newSampler();
        int vocab = cfg.vocabSize(), tokens = 512;
        int n = sessions.size();
        double[][] tps = new double[n][rounds], ratio = new double[n][rounds];
        double[] bound = new double[rounds];
        String[] where = new String[rounds];
        float[] stream = new float[1 << 27];
        Arrays.fill(stream, 1f);
        for (int round = -1; round < rounds; round++) {   // round -1 warms up
            double roundTrip = Placement.roundTripNanos();
            String placement = Placement.describe(roundTrip, Placement.peakScaling());
            double boundSeconds = Double.MAX_VALUE;
            float sink = 0;
            for (int rep = 0; rep < 3; rep++) {   // the best of three, as Limits.java keeps its best
                long t0 = System.nanoTime();
                sink += streamSum(stream, threads);
                boundSeconds = Math.min(boundSeconds, (System.nanoTime() - t0) / 1e9 * gbPerToken / (4e-9 * stream.length));
            }
            if (round >= 0) {
                bound[round] = 1 / boundSeconds;
                where[round] = placement;
            }
            for (int m = 0; m < n; m++) {
                InferenceSession session = sessions.get(m);
                session.reset();
                int next = sampler.sample(session.append(1), vocab);
                long t0 = System.nanoTime();
                for (int i = 1; i < tokens; i++) {
                    next = sampler.sample(session.append(next), vocab);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (round < 0) {
                    continue;
                }
                tps[m][round] = (tokens - 1) / seconds;
                ratio[m][round] = tps[m][round] / bound[round];
                System.out.printf("round %d (%s, round trip %.0f ns): %s decode %.1f tok/s, read bound %.1f tok/s (%.1f GB/s), %.0f%%%s%n", round,
                        where[round], roundTrip, names.get(m), tps[m][round], bound[round], gbPerToken / boundSeconds, 100 * ratio[m][round],
                        sink == 42 && next == 42 ? " " : "");
            }
        }
        for (int m = 0; m < n; m++) {
            for (String place : new java.util.TreeSet<>(Arrays.asList(where))) {
                int[] in = java.util.stream.IntStream.range(0, rounds).filter(i -> where[i].equals(place)).toArray();
                double[] t = pick(tps[m], in), b = pick(bound, in), q = pick(ratio[m], in);
                System.out.printf("# %s, GPT-2 124M f32 (%.0f MB per token, %s), 512-token generations on %s (%d rounds): "
                        + "decode %.1f tok/s, bound %.1f tok/s, median %.0f%% of the bound (range %.0f-%.0f%%)%n",
                        Simd.describe(), gbPerToken * 1e3, names.get(m), place, in.length, median(t), median(b),
                        100 * median(q), 100 * min(q), 100 * max(q));
            }
        }
    }

    static double[] pick(double[] v, int[] at) {
        return Arrays.stream(at).mapToDouble(i -> v[i]).toArray();
    }

    /** Σ x, a contiguous part per thread, four accumulators: Limits.java's streaming read. */
    static float streamSum(float[] x, int threads) {
        float[] partial = new float[threads];
        Parallel.forRange(threads, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int from = (int) ((long) x.length * t / threads), to = (int) ((long) x.length * (t + 1) / threads);
                FloatVector s0 = FloatVector.zero(Simd.F), s1 = s0, s2 = s0, s3 = s0;
                int L = Simd.LANES, i = from;
                for (; i + 4 * L <= to; i += 4 * L) {
                    s0 = s0.add(FloatVector.fromArray(Simd.F, x, i));
                    s1 = s1.add(FloatVector.fromArray(Simd.F, x, i + L));
                    s2 = s2.add(FloatVector.fromArray(Simd.F, x, i + 2 * L));
                    s3 = s3.add(FloatVector.fromArray(Simd.F, x, i + 3 * L));
                }
                float s = Simd.sum(s0.add(s1).add(s2).add(s3));
                for (; i < to; i++) {
                    s += x[i];
                }
                partial[t] = s;
            }
        });
        float s = 0;
        for (float p : partial) {
            s += p;
        }
        return s;
    }
}
