package dev.jgpt.infer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {

    @Test
    void holdsBackAPossibleStartAndReleasesItWhenItIsNot() {
        StopMatcher m = new StopMatcher(List.of("\n\n", "END"));
        assertEquals("hello", m.push("hello\n"));
        assertEquals("\nwor", m.push("wor"));          // "\nw" cannot start "\n\n": released
        assertEquals("ld ", m.push("ld E"));            // "E" may start "END"
        assertEquals("ENO", m.push("NO"));             // "ENO" is not "END" and no tail of it starts one
        assertFalse(m.matched());
    }

    @Test
    void findsAStopStringSplitAcrossPiecesAndDropsTheRest() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("abc ", m.push("abc E"));
        assertEquals("", m.push("N"));
        assertEquals("", m.push("D and more"));
        assertTrue(m.matched());
        assertEquals("", m.push("later"));
    }

    @Test
    void theEarliestStopStringWins() {
        StopMatcher m = new StopMatcher(List.of("cd", "b"));
        assertEquals("a", m.push("abcd"));
        assertTrue(m.matched());
    }

    @Test
    void flushReleasesHeldText() {
        StopMatcher m = new StopMatcher(List.of("STOP"));
        assertEquals("x", m.push("xST"));
        assertEquals("ST", m.flush());
        assertEquals("plain", new StopMatcher(List.of()).push("plain"));
    }
}
