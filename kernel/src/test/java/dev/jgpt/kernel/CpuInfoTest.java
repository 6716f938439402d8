package dev.jgpt.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuInfoTest {
    @TempDir
    Path dir;

    private CpuInfo parse(String text) throws IOException {
        Path f = dir.resolve("cpuinfo");
        Files.writeString(f, text);
        return CpuInfo.read(f);
    }

    @Test
    void firstProcessorsNameVendorAndFamily() throws IOException {
        CpuInfo c = parse("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel name\t: AMD EPYC\n\n"
                + "processor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel name\t: other\n");
        assertEquals(new CpuInfo("AMD EPYC", "AuthenticAMD", "26"), c);
        assertEquals(26, c.amdFamily());
    }

    @Test
    void amdFamilyOnlyForAmdWithANumber() throws IOException {
        assertEquals(-1, parse("vendor_id\t: GenuineIntel\ncpu family\t: 6\n").amdFamily());
        assertEquals(-1, parse("vendor_id\t: AuthenticAMD\ncpu family\t: ?\n").amdFamily());
        assertEquals(-1, parse("vendor_id\t: AuthenticAMD\n").amdFamily());
    }

    @Test
    void intelByVendor() throws IOException {
        assertTrue(parse("vendor_id\t: GenuineIntel\ncpu family\t: 6\n").isIntel());
        assertFalse(parse("vendor_id\t: AuthenticAMD\ncpu family\t: 26\n").isIntel());
        assertFalse(CpuInfo.read(dir.resolve("absent")).isIntel());
    }

    @Test
    void missingFileIsUnknown() {
        CpuInfo c = CpuInfo.read(dir.resolve("absent"));
        assertNull(c.name());
        assertNull(c.vendor());
        assertNull(c.family());
        assertEquals(-1, c.amdFamily());
    }
}
