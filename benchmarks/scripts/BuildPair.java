import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Two builds' matrix-vector product on the same weights in one process, taking turns: each build's benchmarks
 * jar in a class loader of its own, one kernel thread, thread CPU time. Prints each build's ns per 256 weights
 * and the median of the per-block ratios B / A, which holds through this VM's speed episodes (MatvecPair does
 * the same for two types within one build). Both builds quantize the same random f32 matrix; the largest
 * difference of their outputs is printed too (a kernel change should move it by rounding only).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector benchmarks/scripts/BuildPair.java A.jar B.jar TYPE ROWS COLS [blocks=30]
 * </pre>
 */
public class BuildPair {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    private static final int WARM_UP = 5, TURNS = 10;

    record Product(Object matrix, Method matvec) {
        void run(float[] x, float[] y) throws Exception {
            matvec.invoke(matrix, x, 0, y, 0);
        }
    }

    static Product load(Path jar, String type, float[] w, int rows, int cols) throws Exception {
        ClassLoader l = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> parallel = l.loadClass("dev.jgpt.kernel.Parallel"), weightType = l.loadClass("dev.jgpt.kernel.quant.WeightType");
        Class<?> weightMatrix = l.loadClass("dev.jgpt.kernel.quant.WeightMatrix");
        Method threads = parallel.getMethod("setThreads", int.class);
        threads.invoke(null, Runtime.getRuntime().availableProcessors());   // quantizing only
        Object t = weightType.getMethod("parse", String.class).invoke(null, type);
        Object m = weightMatrix.getMethod("quantize", weightType, float[].class, int.class, int.class).invoke(null, t, w, rows, cols);
        threads.invoke(null, 1);
        return new Product(m, weightMatrix.getMethod("matvec", float[].class, int.class, float[].class, int.class));
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 5) {
            System.err.println("usage: BuildPair A.jar B.jar TYPE ROWS COLS [blocks=30]");
            System.exit(2);
        }
        String type = a[2];
        int rows = Integer.parseInt(a[3]), cols = Integer.parseInt(a[4]), blocks = a.length > 5 ? Integer.parseInt(a[5]) : 30;
        SplittableRandom rng = new SplittableRandom(1);
        float[] w = new float[Math.multiplyExact(rows, cols)], x = new float[cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian() * 0.02f;
        }
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        Product pa = load(Path.of(a[0]), type, w, rows, cols), pb = load(Path.of(a[1]), type, w, rows, cols);
        float[] ya = new float[rows], yb = new float[rows];
        int calls = (int) Math.max(1, 3.2e7 / ((double) rows * cols));   // a turn of ~0.1 s or less
        double per256 = (double) rows * cols / 256 * calls * TURNS;
        List<Double> ta = new ArrayList<>(), tb = new ArrayList<>(), ratio = new ArrayList<>();
        for (int block = 0; block < WARM_UP + blocks; block++) {
            long sa = 0, sb = 0;
            for (int turn = 0; turn < TURNS; turn++) {
                long t0 = MX.getCurrentThreadCpuTime();
                for (int i = 0; i < calls; i++) {
                    pa.run(x, ya);
                }
                long t1 = MX.getCurrentThreadCpuTime();
                for (int i = 0; i < calls; i++) {
                    pb.run(x, yb);
                }
                sa += t1 - t0;
                sb += MX.getCurrentThreadCpuTime() - t1;
            }
            if (block >= WARM_UP) {   // the first blocks compile
                ta.add(sa / per256);
                tb.add(sb / per256);
                ratio.add((double) sb / sa);
            }
        }
        double largest = 0, diff = 0;
        for (int r = 0; r < rows; r++) {
            largest = Math.max(largest, Math.abs(ya[r]));
            diff = Math.max(diff, Math.abs(ya[r] - yb[r]));
        }
        System.out.printf(Locale.ROOT, "%s [%d × %d], one thread, ns per 256 weights (CPU time), medians of %d blocks: A %.2f, B %.2f; "
                + "B / A median %.3f (blocks %.3f to %.3f); max |yA − yB| / max |yA| %.1e%n", type, rows, cols, blocks,
                median(ta), median(tb), median(ratio), Collections.min(ratio), Collections.max(ratio), diff / largest);
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }
}
