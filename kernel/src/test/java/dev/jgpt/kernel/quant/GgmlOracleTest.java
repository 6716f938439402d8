package dev.jgpt.kernel.quant;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our quantizers against llama.cpp's: ggml-oracle.txt holds the SHA-256 of each test row as
 * llama.cpp's own reference quantizers wrote it (kernel/src/test/python/ggml_quants_oracle.py, which
 * calls them in a libggml-base.so), and every row quantized here must hash the same: the bytes of a
 * file we write equal llama.cpp's for the same weights. The rows (weight-like, outliers, uniform,
 * one-signed, zero/constant/spike/tiny blocks, large, rounding ties, and for f16/bf16 the special
 * values) are regenerated here by the script's xorshift recipe.
 */
class GgmlOracleTest {
    static final int COLS = 1024;

    private static final class Xorshift {
        int s;

        Xorshift(int seed) {
            s = seed;
        }

        int next() {
            s ^= s << 13;
            s ^= s >>> 17;
            s ^= s << 5;
            return s;
        }

        double uniform() {
            return (next() >>> 8) / 16777216.0;
        }

        double bell() {
            return uniform() + uniform() + uniform() + uniform() - 2.0;
        }
    }

    /** The script's rows(): 8 finite rows, then one of special values. */
    static List<float[]> rows() {
        Xorshift r = new Xorshift(0x9E3779B9);
        List<double[]> out = new ArrayList<>();
        double[] a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = r.bell() * 0.05;
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = r.bell() * (i % 37 == 0 ? 20.0 : 1.0);
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = 2.0 * r.uniform() - 1.0;
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = 0.1 * r.uniform();
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = -0.1 * r.uniform();
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 256; i < 512; i++) {
            a[i] = 0.3;
        }
        for (int i = 768; i < 1024; i++) {
            a[i] = 1e-20 * r.bell();
        }
        a[512 + 77] = -2.5;
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = r.bell() * 1000.0;
        }
        out.add(a);
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = ((int) (r.uniform() * 16) - 8) / 16.0;
        }
        out.add(a);
        double[] halves = {0.0, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 65504.0,
                65519.99, 65520.0, 1e6, 0x1p-24, 0x1p-25, 3 * 0x1p-26, 0x1p-14, 0x1p-14 - 0x1p-25, 1.0 + 0x1p-11,
                1.0 + 3 * 0x1p-11, 1.0 + 0x1p-8, 1.0 + 3 * 0x1p-8, 3.4e38, 1e-40, -1e-45};
        a = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            a[i] = halves[i % halves.length] * (i < halves.length ? 1.0 : r.bell());
        }
        out.add(a);
        List<float[]> rows = new ArrayList<>();
        for (double[] d : out) {
            float[] f = new float[COLS];
            for (int i = 0; i < COLS; i++) {
                f[i] = (float) d[i];
            }
            rows.add(f);
        }
        return rows;
    }

    @Test
    void everyRowQuantizesToTheBytesLlamaCppWrites() throws IOException, NoSuchAlgorithmException {
        List<float[]> rows = rows();
        int checked = 0;
        try (var in = GgmlOracleTest.class.getResourceAsStream("ggml-oracle.txt")) {
            assertNotNull(in, "test resource dev/jgpt/kernel/quant/ggml-oracle.txt is missing");
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] f = line.split(" ");
                WeightType type = WeightType.parse(f[0]);
                int row = Integer.parseInt(f[1]);
                MemorySegment out = Arena.ofAuto().allocate(type.rowBytes(COLS));
                type.quantize(rows.get(row), 0, COLS, out, 0);
                String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(out.toArray(ValueLayout.JAVA_BYTE)));
                if (!hash.equals(f[2])) {
                    fail(type.ggmlName() + " row " + row + " differs from llama.cpp's bytes");
                }
                checked++;
            }
        }
        assertEquals(4 * 8 + 2 * 9, checked, "oracle lines (4 block formats × 8 rows, f16/bf16 × 9)");
    }
}
