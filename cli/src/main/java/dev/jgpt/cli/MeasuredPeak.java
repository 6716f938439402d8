package dev.jgpt.cli;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.kernel.CpuInfo;
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
import java.util.function.IntToDoubleFunction;

/**
 * The FP32 peak that {@code jgpt train}'s MFU figure divides by: measured on this machine
 * ({@link FmaPeak}, a fraction of a second) for a CPU and thread count and kept in
 * {@code peak-gflops.properties} in jgpt's cache folder ({@code ~/.cache/jgpt}). A cache that cannot be
 * read or written only means measuring again.
 *
 * <p>Other load on the machine can only lower a measurement, so the cache keeps the highest one and does not
 * trust a single one: a peak is measured again on its next use (a second measurement), and again, up to
 * {@link #MAX_MEASUREMENTS} in all, while it stays implausibly low ({@link #plausibleFloor}): below one FMA of the
 * full vector width per cycle per core at the clock the CPU reports (every FMA CPU does at least that; a Zen 5
 * core does two), or, per core, below {@link #FEWER_THREADS_SHARE} of the peak cached for fewer threads.
 */
final class MeasuredPeak {
    static final String FILE = "peak-gflops.properties";
    /** Measurements of one peak after which a low value is accepted as the machine's. */
    static final int MAX_MEASUREMENTS = 5;
    /** The least share of a fewer-thread peak per core a plausible peak keeps (SMT siblings share a core's FMA units). */
    static final double FEWER_THREADS_SHARE = 0.4;

    /** A peak and where it came from ("measured", "cached in FILE"). */
    record Peak(double gflops, String source) {
    }

    /** What a plausible peak is checked against: the vector width, the cores, the reported clock (0: unknown). */
    record Machine(String cpu, int lanes, int cores, double clockGhz) {
        static Machine here() {
            return new Machine(MeasuredPeak.cpu(), Simd.LANES, Runtime.getRuntime().availableProcessors(), MeasuredPeak.clockGhz());
        }

        String key(int threads) {
            return cpu + ", " + lanes + " floats/vector, " + threads + " thread" + (threads == 1 ? "" : "s");
        }

        /** Threads that can run at once. */
        int effective(int threads) {
            return Math.min(threads, cores);
        }
    }

    private MeasuredPeak() {}

    static Peak of(int threads) {
        return of(Corpus.defaultCacheDir(System.getenv()).resolve(FILE), Machine.here(), threads,
                t -> FmaPeak.gflops(t, 12));
    }

    static Peak of(Path file, String cpu, int threads) {
        Machine here = Machine.here();
        return of(file, new Machine(cpu, here.lanes(), here.cores(), here.clockGhz()), threads, t -> FmaPeak.gflops(t, 12));
    }

    /** The peak on {@code threads} threads: cached, or {@code measure}d (and cached) as the rule above says. */
    static Peak of(Path file, Machine machine, int threads, IntToDoubleFunction measure) {
        String key = machine.key(threads);
        Properties cache = new Properties();
        double cached = Double.NaN;
        int measurements = 0;
        try {
            if (Files.isRegularFile(file)) {
                cache.load(new StringReader(Files.readString(file)));
                cached = Double.parseDouble(cache.getProperty(key, "NaN"));
                measurements = Integer.parseInt(cache.getProperty(key + MEASUREMENTS, "1"));
            }
        } catch (IOException | IllegalArgumentException unreadable) {
            cache.clear();
            cached = Double.NaN;
        }
        boolean known = cached > 0 && Double.isFinite(cached);
        if (known && !measureAgain(cached, measurements, plausibleFloor(machine, threads, cache))) {
            return new Peak(cached, "measured " + (measurements == 1 ? "once" : measurements + " times")
                    + " here, cached in " + file);
        }
        double measured = measure.applyAsDouble(threads);
        double gflops = known ? Math.max(cached, measured) : measured;
        measurements = known ? measurements + 1 : 1;
        cache.setProperty(key, String.format(Locale.ROOT, "%.1f", gflops));
        cache.setProperty(key + MEASUREMENTS, Integer.toString(measurements));
        String now = known ? String.format(Locale.ROOT, "the best of %d measurements (%.0f now)", measurements, measured)
                : "measured now";
        try {
            Files.createDirectories(file.getParent());
            StringWriter w = new StringWriter();
            cache.store(w, "FP32 peak GFLOP/s (FMA chains) per CPU and thread count, measured by jgpt train: the best "
                    + "of the measurements");
            AtomicFiles.writeString(file, w.toString());
        } catch (IOException | RuntimeException notWritable) {
            return new Peak(gflops, now);
        }
        return new Peak(gflops, now + ", cached in " + file);
    }

    private static final String MEASUREMENTS = " (measurements)";

    /** A cached peak is measured again when only one measurement made it, or while it is implausibly low. */
    static boolean measureAgain(double cached, int measurements, double floor) {
        return measurements < 2 || cached < floor && measurements < MAX_MEASUREMENTS;
    }

    /**
     * The lowest plausible peak on {@code threads} threads: one FMA of the full vector width (2 FLOPs per lane)
     * per cycle per core at the reported clock, {@link #FEWER_THREADS_SHARE} of each fewer-thread peak in
     * {@code cache}, per core, and each fewer-thread peak itself (more threads never lower the peak: 2 threads
     * at 170 beside 1 thread at 195 were both taken under load, and made jgpt train print an MFU of 107%).
     */
    static double plausibleFloor(Machine m, int threads, Properties cache) {
        double floor = m.effective(threads) * m.lanes() * 2.0 * m.clockGhz();
        for (int fewer = 1; fewer < threads; fewer++) {
            try {
                double p = Double.parseDouble(cache.getProperty(m.key(fewer), "NaN"));
                if (p > 0 && Double.isFinite(p)) {
                    floor = Math.max(floor, Math.max(p, FEWER_THREADS_SHARE * p * m.effective(threads) / m.effective(fewer)));
                }
            } catch (NumberFormatException unreadable) {
                // not a peak: nothing to compare with
            }
        }
        return floor;
    }

    /** The clock /proc/cpuinfo reports (its highest "cpu MHz"), in GHz; 0 if there is none. */
    static double clockGhz() {
        try {
            double mhz = 0;
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals("cpu MHz")) {
                    mhz = Math.max(mhz, Double.parseDouble(line.substring(colon + 1).trim()));
                }
            }
            return mhz / 1000;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The CPU's name and family (Linux /proc/cpuinfo), else the architecture and core count. */
    static String cpu() {
        CpuInfo c = CpuInfo.HERE;
        if (c.name() == null) {
            return System.getProperty("os.arch") + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
        }
        return c.name() + (c.family() == null ? "" : " family " + c.family());
    }
}
