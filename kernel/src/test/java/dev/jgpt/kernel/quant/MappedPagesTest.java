package dev.jgpt.kernel.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MappedPages}: which mapping holds an address and whether it has 2 MB pages, as smaps says. */
class MappedPagesTest {
    @TempDir
    Path tmp;

    /** Three mappings as /proc/self/smaps lists them (fields abridged): a file in 2 MB pages, one in 4 KB, a tmpfs file in 2 MB. */
    private static final List<String> SMAPS = List.of(
            "7f6248000000-7f6268000000 r--s 00000000 fe:00 2924881                    /tmp/big.bin",
            "Size:             524288 kB",
            "Rss:              524288 kB",
            "AnonHugePages:         0 kB",
            "FilePmdMapped:    524288 kB",
            "THPeligible:           0",
            "VmFlags: rd sh mr mw me ms sd",
            "7f6268000000-7f6268400000 r--s 00000000 fe:00 2924882                    /tmp/small.bin",
            "Size:               4096 kB",
            "AnonHugePages:      2048 kB",
            "FilePmdMapped:         0 kB",
            "VmFlags: rd sh mr mw me ms sd",
            "7f6268400000-7f6268800000 r--s 00000000 00:1a 17                         /dev/shm/w.bin",
            "FilePmdMapped:         0 kB",
            "ShmemPmdMapped:     2048 kB");

    @Test
    void findsTheMappingHoldingTheAddressAndItsPageSize() {
        MappedPages.Mapping file = MappedPages.parse(SMAPS.iterator(), 0x7f6250000000L);
        assertNotNull(file);
        assertEquals(0x7f6248000000L, file.start());
        assertEquals(0x7f6268000000L, file.end());
        assertTrue(file.huge());
        MappedPages.Mapping small = MappedPages.parse(SMAPS.iterator(), 0x7f6268000000L);   // the next one's first byte
        assertEquals(0x7f6268000000L, small.start());
        assertFalse(small.huge(), "no file page of 2 MB in the second mapping, though the mappings before and after have");
        assertTrue(MappedPages.parse(SMAPS.iterator(), 0x7f62687fffffL).huge());
        assertNull(MappedPages.parse(SMAPS.iterator(), 0x7f6268800000L), "past every mapping");
        assertNull(MappedPages.parse(SMAPS.iterator(), 0x1000L));
    }

    @Test
    void heapAndAllocatedMemoryAndAFileWrittenInSmallPiecesAreNotHuge() throws IOException {
        assertFalse(MappedPages.huge(MemorySegment.ofArray(new float[1 << 20])));
        assertFalse(MappedPages.huge(Arena.ofAuto().allocate(4 << 20)), "not a file's: products touch its pages");
        Path f = tmp.resolve("small-writes.bin");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 1024; i++) {   // 4 MB in 4 KB writes: the page cache keeps 4 KB pages
                ByteBuffer b = ByteBuffer.allocate(4096);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
        try (FileChannel ch = FileChannel.open(f); Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            assertFalse(MappedPages.huge(mapped));
            assertFalse(MappedPages.huge(mapped.asSlice(1 << 21)), "asked again (cached) for another part of it");
        }
    }

    /** The hint reaches libc on Linux (the tests run with native access, as bin/jgpt does) and changes no byte. */
    @Test
    void adviceForHugePagesIsGivenOnLinuxAndChangesNothingRead() throws IOException {
        assertEquals(System.getProperty("os.name").equals("Linux"), MappedPages.canAdvise(),
                "madvise is found and bound through the FFM linker on Linux only");
        Path f = tmp.resolve("advised.bin");
        byte[] bytes = new byte[3 << 20];
        new java.util.Random(5).nextBytes(bytes);
        java.nio.file.Files.write(f, bytes);
        try (FileChannel ch = FileChannel.open(f); Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            MappedPages.adviseHugePages(mapped);
            MappedPages.adviseHugePages(MemorySegment.ofArray(new byte[16]));   // not a mapping: nothing to do
            org.junit.jupiter.api.Assertions.assertArrayEquals(bytes, mapped.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }
}
