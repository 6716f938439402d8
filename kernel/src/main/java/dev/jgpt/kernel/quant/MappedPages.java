package dev.jgpt.kernel.quant;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Whether a memory-mapped file is mapped in 2 MB pages, which decides whether a product streaming it reads each next
 * row's pages first ({@link WeightMatrix#touchPages}): the hardware prefetchers stop at every 4 KB page but not inside
 * a 2 MB one, where those reads only cost (GPT-2 124M decode from a side file in 2 MB pages, 2 threads, Zen 4,
 * alternating in one process: 81-88 tok/s without them against 60-77 with). A file's page-cache pages are 2 MB
 * where the file system keeps large folios (ext4 since Linux 6.16, XFS) and the file was written or read in large
 * pieces ({@code RowMajorCache} writes its side files so); Linux then maps such a page whole.
 */
public final class MappedPages {
    private static final Path SMAPS = Path.of("/proc/self/smaps");
    /** Linux's madvise(2) advice asking for huge pages (include/uapi/asm-generic/mman-common.h). */
    private static final int MADV_HUGEPAGE = 14;
    /** libc's madvise, or null where it cannot be called (not Linux, or this code lacks native access). */
    private static final MethodHandle MADVISE = madvise();
    /** Mappings already read (one per mapped file: every tensor of a file asks), until one overlaps a new mapping. */
    private static final List<Mapping> SEEN = new CopyOnWriteArrayList<>();

    record Mapping(long start, long end, boolean huge) {
        boolean holds(long address) {
            return Long.compareUnsigned(start, address) <= 0 && Long.compareUnsigned(address, end) < 0;
        }
    }

    private MappedPages() {}

    /**
     * Asks Linux to back a freshly mapped file with 2 MB pages: then pages not yet in the page cache are read in
     * 2 MB pieces and mapped whole, where they would be read a readahead window at a time (128 KB by default) and
     * mapped in 4 KB pages. GPT-2 124M's safetensors with a cold cache and 128 KB readahead, Zen 4: all 485 MB mapped
     * in 2 MB pages (none without) and faulted in 0.2 s against 0.3-1.6 s; products over them then skip the page-ahead
     * reads. Pages already cached stay as they are. A hint only: where it cannot be given (not Linux, no native
     * access, a kernel without transparent huge pages), nothing happens.
     */
    public static void adviseHugePages(MemorySegment mapped) {
        if (MADVISE == null || !mapped.isMapped() || mapped.byteSize() == 0) {
            return;
        }
        try {
            int ignored = (int) MADVISE.invokeExact(mapped, mapped.byteSize(), MADV_HUGEPAGE);
        } catch (Throwable refused) {
            // a hint: the mapping works the same without it
        }
    }

    /** Whether {@link #adviseHugePages} can give its hint here. */
    static boolean canAdvise() {
        return MADVISE != null;
    }

    private static MethodHandle madvise() {
        try {
            if (!System.getProperty("os.name", "").equals("Linux")
                    || !MappedPages.class.getModule().isNativeAccessEnabled()) {
                return null;   // without native access, the JDK would warn on the first call
            }
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("madvise").map(f -> linker.downcallHandle(f, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null);
        } catch (RuntimeException unavailable) {
            return null;
        }
    }

    /**
     * True if the file mapping holding s maps some of it with 2 MB pages once s is faulted in: Linux's
     * {@code /proc/self/smaps} says so as {@code FilePmdMapped} (or {@code ShmemPmdMapped}, a tmpfs file). False for
     * memory not mapped from a file, and where smaps is missing (not Linux) or unreadable. Reading smaps takes
     * milliseconds, so each mapping is read once. Only a speed hint: a wrong answer (a file unmapped and another
     * mapped at its address) costs time, never a result.
     */
    static boolean huge(MemorySegment s) {
        if (!s.isMapped() || s.byteSize() == 0) {
            return false;
        }
        faultIn(s);
        long at = s.address();
        for (Mapping m : SEEN) {
            if (m.holds(at)) {
                return m.huge;
            }
        }
        Mapping m = read(at);
        if (m == null) {
            return false;
        }
        SEEN.removeIf(old -> Long.compareUnsigned(old.start, m.end) < 0 && Long.compareUnsigned(m.start, old.end) < 0);
        SEEN.add(m);
        return m.huge;
    }

    /**
     * Reads one byte in every 2 MB of s, in order: a page not yet cached is then read with the pieces after it in one
     * go, in 2 MB pages where {@link #adviseHugePages} was given (two threads' first products, reading their halves
     * of each matrix, left about half of GPT-2's pages in 4 KB ones), and a cached 2 MB page is mapped whole.
     */
    private static void faultIn(MemorySegment s) {
        for (long o = 0; o < s.byteSize(); o += 1 << 21) {
            s.get(ValueLayout.JAVA_BYTE, o);
        }
        s.get(ValueLayout.JAVA_BYTE, s.byteSize() - 1);
    }

    /** The mapping holding address as smaps describes it, or null. */
    private static Mapping read(long address) {
        try (Stream<String> lines = Files.lines(SMAPS)) {
            return parse(lines.iterator(), address);
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /** The mapping holding address in smaps' lines, huge if it has 2 MB pages mapped, or null if none holds it. */
    static Mapping parse(Iterator<String> lines, long address) {
        Mapping found = null;
        boolean huge = false;
        while (lines.hasNext()) {
            String line = lines.next();
            Mapping m = mapping(line);
            if (m != null) {
                if (found != null) {
                    break;   // past the mapping's fields
                }
                found = m.holds(address) ? m : null;
            } else if (found != null && (line.startsWith("FilePmdMapped:") || line.startsWith("ShmemPmdMapped:"))) {
                huge |= kilobytes(line) > 0;
            }
        }
        return found == null ? null : new Mapping(found.start, found.end, huge);
    }

    /** A mapping's first line, "start-end perms ...", as its range; null for its fields' lines ("Name: value"). */
    private static Mapping mapping(String line) {
        int dash = line.indexOf('-'), space = line.indexOf(' ');
        if (dash <= 0 || space < dash) {
            return null;
        }
        try {
            return new Mapping(HexFormat.fromHexDigitsToLong(line, 0, dash),
                    HexFormat.fromHexDigitsToLong(line, dash + 1, space), false);
        } catch (IllegalArgumentException notAMapping) {
            return null;
        }
    }

    /** "Name:   123 kB" → 123. */
    private static long kilobytes(String line) {
        String v = line.substring(line.indexOf(':') + 1).trim();
        return Long.parseLong(v.substring(0, v.indexOf(' ')));
    }
}
