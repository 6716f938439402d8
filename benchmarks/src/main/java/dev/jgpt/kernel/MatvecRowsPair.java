package dev.jgpt.kernel;

import dev.jgpt.bench.StreamRead;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import static dev.jgpt.bench.Summary.max;
import static dev.jgpt.bench.Summary.median;
import static dev.jgpt.bench.Summary.min;

/**
 * The two matvec routes {@link MatvecRows} chooses between, on one thread over GPT-2 124M's decode matrices (f32,
 * 12 layers of c_attn 2304 × 768, c_proj 768 × 768, c_fc 3072 × 768 and mlp c_proj 768 × 3072: 340 MB, far
 * beyond cache), taking turns pass by pass with a plain streaming sum over the same arrays, so all three meet
 * the machine in the same state. Prints each one's GB/s (median and range over passes) and the median of the
 * per-turn ratios eight-rows / one-row and eight-rows / stream. In this package to reach both routes.
 * <pre>
 * java --add-modules jdk.incubator.vector -XX:+UseTransparentHugePages -Xmx2g \
 *     -cp benchmarks/target/benchmarks.jar dev.jgpt.kernel.MatvecRowsPair [turns]
 * </pre>
 */
public final class MatvecRowsPair {
    private MatvecRowsPair() {}

    public static void main(String[] args) {
        int turns = args.length > 0 ? Integer.parseInt(args[0]) : 30, warmUp = 5;
        int[][] shapes = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        SplittableRandom rng = new SplittableRandom(1);
        float[][] mats = new float[12 * shapes.length][];
        long bytes = 0;
        for (int i = 0; i < mats.length; i++) {
            int[] s = shapes[i % shapes.length];
            mats[i] = new float[s[0] * s[1]];
            for (int j = 0; j < mats[i].length; j++) {
                mats[i][j] = (float) (rng.nextDouble() - 0.5);
            }
            bytes += 4L * mats[i].length;
        }
        float[] x = new float[3072], y = new float[3072];
        Arrays.fill(x, 0.01f);
        double[] one = new double[turns], eight = new double[turns], stream = new double[turns];
        double[] vsOne = new double[turns], vsStream = new double[turns];
        float sink = 0;
        for (int t = -warmUp; t < turns; t++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < mats.length; i++) {
                int[] s = shapes[i % shapes.length];
                GemmVec.dots(0, s[0], s[1], mats[i], 0, s[1], x, 0, 0, 1, y, 0, 1, 0, false);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < mats.length; i++) {
                int[] s = shapes[i % shapes.length];
                int done = GemmVec.dotsEight(0, s[0], s[1], mats[i], 0, s[1], x, 0, y, 0, 1, false);
                GemmVec.dots(done, s[0], s[1], mats[i], 0, s[1], x, 0, 0, 1, y, 0, 1, 0, false);
            }
            long t2 = System.nanoTime();
            for (float[] m : mats) {
                sink += StreamRead.sum(m, 0, m.length);
            }
            long t3 = System.nanoTime();
            if (t >= 0) {
                one[t] = bytes / (double) (t1 - t0);
                eight[t] = bytes / (double) (t2 - t1);
                stream[t] = bytes / (double) (t3 - t2);
                vsOne[t] = eight[t] / one[t];
                vsStream[t] = eight[t] / stream[t];
            }
        }
        System.out.printf(Locale.ROOT, "one row at a time   %5.1f GB/s (%.1f-%.1f)%n", median(one), min(one), max(one));
        System.out.printf(Locale.ROOT, "eight side by side  %5.1f GB/s (%.1f-%.1f)%n", median(eight), min(eight), max(eight));
        System.out.printf(Locale.ROOT, "streaming sum       %5.1f GB/s (%.1f-%.1f)%n", median(stream), min(stream), max(stream));
        System.out.printf(Locale.ROOT, "# %s, 1 thread, %d turns over %d MB: eight/one %.3fx, eight/stream %.3fx (medians of per-turn"
                        + " ratios); MatvecRows picks %d here%s%n", Simd.describe().replaceAll(", \\d+ threads", ""), turns,
                bytes >> 20, median(vsOne), median(vsStream), MatvecRows.SIDE_BY_SIDE, sink == 42 ? " " : "");
    }
}
