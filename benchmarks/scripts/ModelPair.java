import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Two builds of jgpt decoding one GGUF file in one process, taking turns every 16 tokens: each build's
 * benchmarks jar in a class loader of its own (its own kernel threads and compiled code), both under
 * GgufDecode.java's protocol (the same 64-token prompt, greedy over positions 64..191, cut back to 64).
 * Prints each build's median rate and the median of the per-turn ratios B / A, which holds through this
 * VM's speed episodes (0.1 s to seconds at up to 1.35-2× slower) where rates of separate processes do not.
 * Needs nothing compiled against either build: a single-file program, any JDK that runs them.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector benchmarks/scripts/ModelPair.java A.jar B.jar FILE.gguf [threads=2] [seconds=20]
 * </pre>
 * (copy benchmarks/target/benchmarks.jar aside before rebuilding to keep the "before" build). A build may also be a
 * class path, DIR:JAR, to try a class or two compiled on their own (javac -d DIR) in place of the jar's.
 */
public class ModelPair {
    static final int PREFIX = 64, END = PREFIX + 128, CHUNK = 16;

    /** One build's model and session, called through reflection (a call costs nothing beside a token's ~60 ms). */
    static final class Decoder {
        final Object session, sampler;
        final Method append, position, truncate, sample;
        final int vocab;
        int next;

        Decoder(String classPath, Path file, int threads) throws Exception {
            List<URL> urls = new ArrayList<>();
            for (String p : classPath.split(java.io.File.pathSeparator)) {
                urls.add(Path.of(p).toUri().toURL());
            }
            ClassLoader l = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            l.loadClass("dev.jgpt.kernel.Parallel").getMethod("setThreads", int.class).invoke(null, threads);
            Class<?> ggufFile = l.loadClass("dev.jgpt.model.io.gguf.GgufFile");
            Class<?> gpt = l.loadClass("dev.jgpt.model.GPT"), sessionClass = l.loadClass("dev.jgpt.model.InferenceSession");
            Class<?> samplerClass = l.loadClass("dev.jgpt.infer.Sampler");
            Object f = ggufFile.getMethod("open", Path.class).invoke(null, file);   // left open: the weights are its mapping
            Object model = l.loadClass("dev.jgpt.model.io.gguf.GgufModel").getMethod("load", ggufFile).invoke(null, f);
            Object config = gpt.getField("config").get(model);
            vocab = (int) config.getClass().getMethod("vocabSize").invoke(config);
            session = sessionClass.getConstructor(gpt, int.class).newInstance(model, 256);
            append = sessionClass.getMethod("append", int[].class);
            position = sessionClass.getMethod("position");
            truncate = sessionClass.getMethod("truncate", int.class);
            sampler = samplerClass.getMethod("greedy").invoke(null);
            sample = samplerClass.getMethod("sample", float[].class, int.class);
            int[] prompt = new int[PREFIX];
            long r = 7;
            for (int i = 0; i < PREFIX; i++) {   // llamacpp_decode.mjs's and GgufDecode.java's generator
                r = (r * 1103515245L + 12345) % 2147483648L;
                prompt[i] = (int) (r % vocab);
            }
            append.invoke(session, (Object) prompt);
            next = prompt[PREFIX - 1];
        }

        /** Decodes n tokens greedily; tokens per second of wall time. */
        double decode(int n) throws Exception {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if ((int) position.invoke(session) >= END) {
                    truncate.invoke(session, PREFIX);
                }
                next = (int) sample.invoke(sampler, (float[]) append.invoke(session, (Object) new int[] {next}), vocab);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 3) {
            System.err.println("usage: ModelPair A.jar B.jar FILE.gguf [threads=2] [seconds=20]   (a build: JAR or DIR:JAR)");
            System.exit(2);
        }
        Path file = Path.of(a[2]);
        int threads = a.length > 3 ? Integer.parseInt(a[3]) : 2;
        double seconds = a.length > 4 ? Double.parseDouble(a[4]) : 20;
        Decoder da = new Decoder(a[0], file, threads), db = new Decoder(a[1], file, threads);
        da.decode(END - PREFIX);   // warm-up: one pass over the positions each
        db.decode(END - PREFIX);
        List<Double> ra = new ArrayList<>(), rb = new ArrayList<>(), ratio = new ArrayList<>();
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (ra.size() < 5 || System.nanoTime() < deadline) {
            double x = da.decode(CHUNK), y = db.decode(CHUNK);
            ra.add(x);
            rb.add(y);
            ratio.add(y / x);
        }
        System.out.printf(Locale.ROOT, "%s, %d threads: A (%s) %.2f tok/s, B (%s) %.2f tok/s, medians of %d turns of %d tokens; "
                        + "B / A median %.3f (quartiles %.3f, %.3f)%n", file.getFileName(), threads, a[0], quantile(ra, 0.5), a[1],
                quantile(rb, 0.5), ra.size(), CHUNK, quantile(ratio, 0.5), quantile(ratio, 0.25), quantile(ratio, 0.75));
    }

    static double quantile(List<Double> xs, double q) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get((int) Math.round(q * (s.size() - 1)));
    }
}
