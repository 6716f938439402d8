package dev.jgpt.model.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LrScheduleTest {
    private final LrSchedule s = new LrSchedule(1e-3, 1e-4, 100, 2000);

    @Test
    void warmupIsLinearAndStartsAboveZero() {
        assertEquals(1e-3 / 101, s.lr(0), 1e-15);
        assertEquals(1e-3 * 50 / 101, s.lr(49), 1e-15);
        assertEquals(1e-3 * 100 / 101, s.lr(99), 1e-15);
    }

    @Test
    void cosineFromPeakToMin() {
        assertEquals(1e-3, s.lr(100), 1e-15);
        assertEquals((1e-3 + 1e-4) / 2, s.lr(1050), 1e-12); // halfway: cos(π/2) = 0
        assertEquals(1e-4, s.lr(2000), 1e-15);
        assertEquals(1e-4, s.lr(5000), 1e-15);
        for (int i = 101; i <= 2000; i++) {
            assertTrue(s.lr(i) <= s.lr(i - 1), "lr must not increase after warmup, step " + i);
        }
    }

    @Test
    void noWarmup() {
        LrSchedule n = new LrSchedule(1e-3, 0, 0, 10);
        assertEquals(1e-3, n.lr(0), 1e-15);
        assertEquals(0, n.lr(10), 1e-15);
    }

    @Test
    void rejectsMinAboveMax() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1e-4, 1e-3, 0, 10));
    }
}
