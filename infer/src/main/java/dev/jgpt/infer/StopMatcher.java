package dev.jgpt.infer;

import java.util.List;

/**
 * Finds stop strings in streamed text without ever releasing part of one: text that could still
 * be the start of a stop string is held back until the next piece decides it.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean matched;

    StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    /**
     * Adds a piece of text and returns the part that can be released. After a match it returns
     * the text before the stop string, {@link #matched()} turns true and the rest is dropped.
     */
    String push(String piece) {
        if (matched) {
            return "";
        }
        if (stops.isEmpty()) {
            return piece;
        }
        held.append(piece);
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        if (first >= 0) {
            matched = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = 0;   // the longest tail of the held text that begins some stop string
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, held.length()); len > keep; len--) {
                if (endsWith(held, s, len)) {
                    keep = len;
                    break;
                }
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Releases whatever is held (at the end of generation: it was not a stop string after all). */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    boolean matched() {
        return matched;
    }

    /** Does {@code sb} end with the first {@code len} characters of {@code s}? */
    private static boolean endsWith(StringBuilder sb, String s, int len) {
        int off = sb.length() - len;
        for (int i = 0; i < len; i++) {
            if (sb.charAt(off + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
