package dev.jgpt.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeasuredPeakTest {
    @TempDir
    Path tmp;

    @Test
    void measuresOnceThenReadsTheCache() throws Exception {
        Path file = tmp.resolve("cache/jgpt").resolve(MeasuredPeak.FILE);
        MeasuredPeak.Peak first = MeasuredPeak.of(file, "Test CPU family 1", 1);
        assertTrue(first.gflops() > 0 && Double.isFinite(first.gflops()), "a peak: " + first);
        assertTrue(first.source().startsWith("measured now, cached in "), first.source());
        java.util.Properties saved = new java.util.Properties();
        saved.load(new java.io.StringReader(Files.readString(file)));
        assertEquals(java.util.Set.of("Test CPU family 1, " + dev.jgpt.kernel.Simd.LANES + " floats/vector, 1 thread"),
                saved.stringPropertyNames(), Files.readString(file));

        MeasuredPeak.Peak again = MeasuredPeak.of(file, "Test CPU family 1", 1);
        assertEquals(Double.parseDouble(String.format(java.util.Locale.ROOT, "%.1f", first.gflops())), again.gflops());
        assertTrue(again.source().startsWith("measured once here, cached in "), again.source());

        // Another thread count (or CPU) is another entry; the first stays.
        MeasuredPeak.of(file, "Test CPU family 1", 2);
        assertEquals(again.gflops(), MeasuredPeak.of(file, "Test CPU family 1", 1).gflops());
    }

    @Test
    void anUnreadableCacheMeansMeasuringAgain() throws Exception {
        Path file = Files.writeString(tmp.resolve(MeasuredPeak.FILE), "Test\\ CPU=\\u12");   // a broken escape
        MeasuredPeak.Peak p = MeasuredPeak.of(file, "Test CPU", 1);
        assertTrue(p.gflops() > 0, p.toString());
        assertTrue(p.source().startsWith("measured now"), p.source());
    }

    @Test
    void namesTheCpu() {
        assertTrue(!MeasuredPeak.cpu().isBlank());
    }
}
