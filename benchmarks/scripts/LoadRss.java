import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak resident memory of loading a Llama-3.2-1B-shaped model directory (1.24 B parameters, 4.9 GB of
 * F32 weights), against the weights' size. Run as a single-file program on the benchmarks jar's class
 * path, writing the directory once and loading it in a fresh JVM, so the load's peak is its own:
 *
 * <pre>
 * J="java --add-modules jdk.incubator.vector -Xmx7g -cp benchmarks/target/benchmarks.jar"
 * $J benchmarks/scripts/LoadRss.java write /tmp/llama-1b      # ~5 GB on disk
 * $J benchmarks/scripts/LoadRss.java load /tmp/llama-1b       # prints peak RSS / weights
 * </pre>
 *
 * The weights are zeros: what is measured is where bytes go on the way from file to arrays, not the values.
 * Peak RSS is the kernel's high-water mark (VmHWM in /proc/self/status), so it covers every transient
 * buffer; the JVM's own baseline (code, metaspace, the compiler) is included.
 */
public class LoadRss {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        GPTConfig cfg = GPTConfig.llama32OneB(131072);
        long t0 = System.nanoTime();
        if (args[0].equals("write")) {
            ModelDir.save(GPT.uninitialized(cfg), dir);
            System.out.printf("wrote %s: %.2f GB in %.0f s%n", dir, Files.size(dir.resolve(ModelDir.WEIGHTS)) / 1e9,
                    (System.nanoTime() - t0) / 1e9);
            return;
        }
        GPT m = ModelDir.load(dir);
        double weights = 4.0 * m.parameterCount();
        double peak = highWaterMarkBytes();
        System.out.printf("loaded %s in %.0f s: %.3f B parameters, %.2f GB of F32 weights; peak RSS %.2f GB = %.3f × the weights%n",
                dir, (System.nanoTime() - t0) / 1e9, m.parameterCount() / 1e9, weights / 1e9, peak / 1e9, peak / weights);
    }

    /** VmHWM: the most resident memory this process has had, in bytes. */
    static double highWaterMarkBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Double.parseDouble(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmHWM in /proc/self/status (Linux only)");
    }
}
