package dev.jgpt.cli;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.FmaPeak;
import dev.jgpt.kernel.Simd;
import dev.jgpt.tokenizer.Corpus;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;

/**
 * The FP32 peak that {@code jgpt train}'s MFU figure divides by: measured on this machine
 * ({@link FmaPeak}, a fraction of a second) the first time it is needed for a CPU and thread count,
 * then read from {@code peak-gflops.properties} in jgpt's cache folder ({@code ~/.cache/jgpt}). A cache
 * that cannot be read or written only means measuring again.
 */
final class MeasuredPeak {
    static final String FILE = "peak-gflops.properties";

    /** A peak and where it came from ("measured", "cached in FILE"). */
    record Peak(double gflops, String source) {
    }

    private MeasuredPeak() {}

    static Peak of(int threads) {
        return of(Corpus.defaultCacheDir(System.getenv()).resolve(FILE), cpu(), threads);
    }

    static Peak of(Path file, String cpu, int threads) {
        String key = cpu + ", " + Simd.LANES + " floats/vector, " + threads + " thread" + (threads == 1 ? "" : "s");
        Properties cache = new Properties();
        try {
            if (Files.isRegularFile(file)) {
                cache.load(new StringReader(Files.readString(file)));
                double cached = Double.parseDouble(cache.getProperty(key, "NaN"));
                if (cached > 0 && Double.isFinite(cached)) {
                    return new Peak(cached, "measured once here, cached in " + file);
                }
            }
        } catch (IOException | IllegalArgumentException unreadable) {
            cache.clear();
        }
        double gflops = FmaPeak.gflops(threads, 12);
        cache.setProperty(key, String.format(Locale.ROOT, "%.1f", gflops));
        try {
            Files.createDirectories(file.getParent());
            StringWriter w = new StringWriter();
            cache.store(w, "FP32 peak GFLOP/s (FMA chains) per CPU and thread count, measured by jgpt train");
            AtomicFiles.writeString(file, w.toString());
        } catch (IOException | RuntimeException notWritable) {
            return new Peak(gflops, "measured now");
        }
        return new Peak(gflops, "measured now, cached in " + file);
    }

    /** The CPU's name and family (Linux /proc/cpuinfo), else the architecture and core count. */
    static String cpu() {
        String fallback = System.getProperty("os.arch") + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
        try {
            String name = null, family = null;
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String k = line.substring(0, colon).trim(), v = line.substring(colon + 1).trim();
                if (name == null && k.equals("model name")) {
                    name = v;
                } else if (family == null && k.equals("cpu family")) {
                    family = v;
                }
            }
            return name == null ? fallback : name + (family == null ? "" : " family " + family);
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }
}
