package dev.jgpt.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU as Linux's {@code /proc/cpuinfo} names it (the first processor's lines): its model name, vendor id and
 * family, each null where unknown (not Linux, or the file unreadable).
 */
public record CpuInfo(String name, String vendor, String family) {
    /** This machine's, read once. */
    public static final CpuInfo HERE = read(Path.of("/proc/cpuinfo"));

    static CpuInfo read(Path cpuinfo) {
        String name = null, vendor = null, family = null;
        try {
            for (String line : Files.readAllLines(cpuinfo)) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String k = line.substring(0, colon).trim(), v = line.substring(colon + 1).trim();
                if (name == null && k.equals("model name")) {
                    name = v;
                } else if (vendor == null && k.equals("vendor_id")) {
                    vendor = v;
                } else if (family == null && k.equals("cpu family")) {
                    family = v;
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // not Linux, or no such file: unknown
        }
        return new CpuInfo(name, vendor, family);
    }

    /** Whether this is an Intel CPU. */
    public boolean isIntel() {
        return "GenuineIntel".equals(vendor);
    }

    /** The family number if this is an AMD CPU whose family is known, else -1. */
    public int amdFamily() {
        if (!"AuthenticAMD".equals(vendor) || family == null) {
            return -1;
        }
        try {
            return Integer.parseInt(family);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
