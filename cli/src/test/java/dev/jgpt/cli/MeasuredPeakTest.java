package dev.jgpt.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.IntToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class MeasuredPeakTest {
    @TempDir
    Path tmp;

    /** 16 floats per vector, 2 cores, 2 GHz: one full-width FMA per cycle per core is 64 GFLOP/s a core. */
    private static final MeasuredPeak.Machine ZEN = new MeasuredPeak.Machine("Test CPU family 1", 16, 2, 2.0);

    /** Measurements that return the given values in turn and fail when asked for one more. */
    private static final class Measurements implements IntToDoubleFunction {
        final Deque<Double> values;
        int taken;

        Measurements(Double... values) {
            this.values = new ArrayDeque<>(List.of(values));
        }

        @Override
        public double applyAsDouble(int threads) {
            if (values.isEmpty()) {
                fail("measured again after " + taken + " measurements: the cache should have been read");
            }
            taken++;
            return values.poll();
        }
    }

    private Path file() {
        return tmp.resolve("cache/jgpt").resolve(MeasuredPeak.FILE);
    }

    @Test
    void measuresTwiceThenReadsTheCache() throws Exception {
        Measurements m = new Measurements(150.0, 180.0);
        MeasuredPeak.Peak first = MeasuredPeak.of(file(), ZEN, 1, m);
        assertEquals(150.0, first.gflops());
        assertTrue(first.source().startsWith("measured now, cached in "), first.source());
        Properties saved = new Properties();
        saved.load(new StringReader(Files.readString(file())));
        assertEquals(Set.of("Test CPU family 1, 16 floats/vector, 1 thread",
                "Test CPU family 1, 16 floats/vector, 1 thread (measurements)"), saved.stringPropertyNames(), Files.readString(file()));

        MeasuredPeak.Peak second = MeasuredPeak.of(file(), ZEN, 1, m);   // one measurement is not trusted alone
        assertEquals(180.0, second.gflops());
        assertTrue(second.source().startsWith("the best of 2 measurements (180 now), cached in "), second.source());

        MeasuredPeak.Peak third = MeasuredPeak.of(file(), ZEN, 1, m);    // two plausible ones are
        assertEquals(180.0, third.gflops());
        assertTrue(third.source().startsWith("measured 2 times here, cached in "), third.source());
        assertEquals(2, m.taken);

        // Another thread count (or CPU) is another entry; the first stays.
        MeasuredPeak.of(file(), ZEN, 2, new Measurements(300.0));
        assertEquals(180.0, MeasuredPeak.of(file(), ZEN, 1, new Measurements()).gflops());
    }

    @Test
    void keepsTheHighestMeasurement() {
        Measurements m = new Measurements(150.0, 90.0);   // the second ran while the machine was busy
        MeasuredPeak.of(file(), ZEN, 1, m);
        assertEquals(150.0, MeasuredPeak.of(file(), ZEN, 1, m).gflops());
        assertEquals(150.0, MeasuredPeak.of(file(), ZEN, 1, m).gflops());
        assertEquals(2, m.taken);
    }

    @Test
    void aPeakBelowOneFmaPerCyclePerCoreIsMeasuredAgainUpToTheLimit() {
        // 2 threads on 2 cores at 2 GHz: at least 2 × 16 lanes × 2 FLOPs × 2 GHz = 128 GFLOP/s.
        Measurements loaded = new Measurements(68.0, 70.0, 71.0, 69.0, 72.0);
        for (int i = 0; i < MeasuredPeak.MAX_MEASUREMENTS + 2; i++) {
            MeasuredPeak.of(file(), ZEN, 2, loaded);
        }
        assertEquals(MeasuredPeak.MAX_MEASUREMENTS, loaded.taken, "then the low figure is accepted as this machine's");
        assertEquals(72.0, MeasuredPeak.of(file(), ZEN, 2, new Measurements()).gflops());

        Measurements quieter = new Measurements(60.0, 61.0, 250.0);
        Path other = tmp.resolve("other.properties");
        for (int i = 0; i < 5; i++) {
            MeasuredPeak.of(other, ZEN, 2, quieter);
        }
        assertEquals(3, quieter.taken, "a plausible measurement ends the re-measuring");
        assertEquals(250.0, MeasuredPeak.of(other, ZEN, 2, new Measurements()).gflops());
    }

    @Test
    void aPeakFarBelowTheFewerThreadPeakPerCoreIsMeasuredAgain() {
        MeasuredPeak.Machine unknownClock = new MeasuredPeak.Machine("Test CPU", 16, 2, 0);
        MeasuredPeak.of(file(), unknownClock, 1, new Measurements(190.0, 195.0));
        MeasuredPeak.of(file(), unknownClock, 2, new Measurements(68.0, 66.0));
        // The cache of the issue: 2 threads at 68 beside 1 thread at 195 (floor 0.4 × 195 × 2 = 156).
        Measurements m = new Measurements(380.0);
        assertEquals(380.0, MeasuredPeak.of(file(), unknownClock, 2, m).gflops());
        assertEquals(380.0, MeasuredPeak.of(file(), unknownClock, 2, m).gflops());
        assertEquals(1, m.taken);
    }

    @Test
    void aPeakBelowTheFewerThreadPeakIsMeasuredAgain() {
        // This machine's cache after a loaded day: 2 threads at 169.5 (3 measurements) beside 1 thread at 195.3,
        // which made jgpt train print an MFU of 107%. More threads never lower the peak.
        Properties cache = new Properties();
        MeasuredPeak.Machine zen = new MeasuredPeak.Machine("Test CPU", 16, 2, 0);
        cache.setProperty(zen.key(1), "195.3");
        double floor = MeasuredPeak.plausibleFloor(zen, 2, cache);
        assertTrue(floor >= 195.3, "floor " + floor);
        assertTrue(MeasuredPeak.measureAgain(169.5, 3, floor));
    }

    @Test
    void theFloorCountsCoresNotThreads() {
        Properties cache = new Properties();
        MeasuredPeak.Machine oneCore = new MeasuredPeak.Machine("Test CPU", 8, 1, 3.0);
        cache.setProperty(oneCore.key(1), "90.0");
        // Two threads on one core can do no more than one, and no less: the floor is the one-thread peak.
        assertEquals(90.0, MeasuredPeak.plausibleFloor(oneCore, 2, cache), 1e-9);
        assertEquals(8 * 2 * 3.0, MeasuredPeak.plausibleFloor(oneCore, 1, cache), 1e-9);
        assertFalse(MeasuredPeak.measureAgain(50, 2, 48));
        assertTrue(MeasuredPeak.measureAgain(50, 1, 48));
        assertTrue(MeasuredPeak.measureAgain(40, 4, 48));
        assertFalse(MeasuredPeak.measureAgain(40, MeasuredPeak.MAX_MEASUREMENTS, 48));
    }

    @Test
    void measuresForReal() throws Exception {
        MeasuredPeak.Peak p = MeasuredPeak.of(file(), "Test CPU family 1", 1);
        assertTrue(p.gflops() > 0 && Double.isFinite(p.gflops()), "a peak: " + p);
    }

    @Test
    void anUnreadableCacheMeansMeasuringAgain() throws Exception {
        Path file = Files.writeString(tmp.resolve(MeasuredPeak.FILE), "Test\\ CPU=\\u12");   // a broken escape
        MeasuredPeak.Peak p = MeasuredPeak.of(file, ZEN, 1, new Measurements(123.0));
        assertEquals(123.0, p.gflops());
        assertTrue(p.source().startsWith("measured now"), p.source());
    }

    @Test
    void namesTheCpu() {
        assertTrue(!MeasuredPeak.cpu().isBlank());
    }
}
