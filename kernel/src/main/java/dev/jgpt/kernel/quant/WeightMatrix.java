package dev.jgpt.kernel.quant;

import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.MatvecRows;
import dev.jgpt.kernel.Parallel;
import dev.jgpt.kernel.Simd;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A weight matrix W [rows × cols] kept in its storage format: row r is the {@code rowBytes} bytes at
 * r·rowBytes of {@link #data()}, which may be heap or native memory or a memory-mapped file (a GGUF
 * tensor used in place). Nothing is expanded to f32 except transiently, a few rows at a time.
 *
 * <p>Products keep the activations in f32: {@link #matvec} (y = W·x, decode) decodes each weight in
 * registers right before its multiply-add, rows split across the kernel threads; {@link #matmul}
 * (Y = X·Wᵀ for several rows of X: prefill, batched decode) decodes panels of 16 rows of W into a
 * small f32 buffer and multiplies them with 4×4 register tiles, so each weight is decoded once for
 * all rows of X. Every output is summed by one thread in a fixed order: results do not depend on the
 * thread count.
 *
 * <p>An f32 matrix may also be stored transposed ({@link #wrapTransposed}: GPT-2's Conv1D weights, used in
 * place in a mapped safetensors file); its products sum scaled rows of Wᵀ instead ({@link TransposedF32}).
 */
public final class WeightMatrix {
    /** Matrices smaller than this (bytes per thread) are not split: threading costs microseconds. */
    private static final long PARALLEL_BYTES = 1 << 15;
    /** Rows of W decoded together by matmul: 16 rows of f32 stay in L2 for cols up to ~16k. */
    static final int PANEL = 16;

    private final WeightType type;
    private final int rows, cols;
    private final long rowBytes;
    private final MemorySegment data;
    /** Row r is stored at row storedRows[r] of data; null when rows are stored in order. */
    private final int[] storedRows;
    /** data holds Wᵀ [cols × rows] (f32 only): row r of W is column r of the stored matrix. */
    private final boolean transposed;
    /** Products read each next row's pages first (see touchPages): native memory, unless a file's in 2 MB pages. */
    private final boolean touchPages;

    private WeightMatrix(WeightType type, int rows, int cols, MemorySegment data, int[] storedRows, boolean transposed) {
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.rowBytes(cols);
        this.data = data;
        this.storedRows = storedRows;
        this.transposed = transposed;
        this.touchPages = data.isNative() && !MappedPages.huge(data);
    }

    /** Uses data in place as W [rows × cols] of this type; its size must be exactly rows·rowBytes(cols). */
    public static WeightMatrix wrap(WeightType type, int rows, int cols, MemorySegment data) {
        if (rows <= 0) {
            throw new IllegalArgumentException(type.ggmlName() + " matrix: rows must be positive, got " + rows);
        }
        long need = (long) rows * type.rowBytes(cols);
        if (data.byteSize() != need) {
            throw new IllegalArgumentException(type.ggmlName() + " matrix [" + rows + " × " + cols + "] takes "
                    + need + " bytes, the segment has " + data.byteSize());
        }
        return new WeightMatrix(type, rows, cols, data, null, false);
    }

    /**
     * Uses data in place as W [rows × cols] f32 stored transposed: data holds Wᵀ [cols × rows], row-major
     * little-endian f32 (exactly 4·rows·cols bytes), as Hugging Face GPT-2 stores its Conv1D weights.
     */
    public static WeightMatrix wrapTransposed(int rows, int cols, MemorySegment data) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("transposed f32 matrix: rows and cols must be positive, got ["
                    + rows + " × " + cols + "]");
        }
        long need = 4L * rows * cols;
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("transposed f32 matrix [" + rows + " × " + cols + "] takes " + need
                    + " bytes, the segment has " + data.byteSize());
        }
        return new WeightMatrix(WeightType.F32, rows, cols, data, null, true);
    }

    /** True if the matrix is stored transposed ({@link #wrapTransposed}). */
    public boolean isTransposed() {
        return transposed;
    }

    /** Quantizes the row-major f32 matrix w[off, off + rows·cols) to this type, in new native memory. */
    public static WeightMatrix quantize(WeightType type, float[] w, int off, int rows, int cols) {
        long rowBytes = type.rowBytes(cols);
        if (rows <= 0) {
            throw new IllegalArgumentException(type.ggmlName() + " matrix: rows must be positive, got " + rows);
        }
        if (off < 0 || (long) off + (long) rows * cols > w.length) {
            throw new IllegalArgumentException("quantize: [" + rows + " × " + cols + "] at " + off
                    + " does not fit in " + w.length + " values");
        }
        for (int i = off; i < off + rows * cols; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("quantize: weight [" + (i - off) / cols + ", " + (i - off) % cols
                        + "] is " + w[i]);
            }
        }
        MemorySegment seg = Arena.ofAuto().allocate(rows * rowBytes, 64);
        Parallel.forRange(rows, minRows(rowBytes), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                type.format.quantize(w, off + r * cols, cols, seg, r * rowBytes);
            }
        });
        return new WeightMatrix(type, rows, cols, seg, null, false);
    }

    public static WeightMatrix quantize(WeightType type, float[] w, int rows, int cols) {
        return quantize(type, w, 0, rows, cols);
    }

    /**
     * This matrix with its rows in another order, read in place: row r of the result is row order[r] of
     * this one (llama.cpp's q and k rows, used in Hugging Face's order without a copy). A copy would be
     * native memory beside the file's mapping, and kernels that meet both kinds of segment at one call site
     * run at half speed (a Llama-3.2-1B-shaped Q8_0 file decoded at 6.7 tok/s with copied q and k, 11.4
     * with every matrix of one kind).
     */
    public WeightMatrix withRowOrder(int[] order) {
        if (order.length != rows) {
            throw new IllegalArgumentException("row order of " + order.length + " rows for " + this);
        }
        if (transposed) {
            throw new UnsupportedOperationException("a row order over a transposed matrix: " + this);
        }
        boolean[] seen = new boolean[rows];
        int[] stored = new int[rows];
        for (int r = 0; r < rows; r++) {
            int o = order[r];
            if (o < 0 || o >= rows || seen[o]) {
                throw new IllegalArgumentException("row order is not a permutation of " + rows + " rows: " + o + " at " + r);
            }
            seen[o] = true;
            stored[r] = storedRows == null ? o : storedRows[o];
        }
        return new WeightMatrix(type, rows, cols, data, stored, false);
    }

    public WeightType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The stored blocks (exactly rows·rowBytes bytes), as a GGUF file holds them; rows in order (see {@link #withRowOrder}). */
    public MemorySegment data() {
        if (transposed) {
            throw new IllegalStateException(this + " is stored transposed: its bytes are Wᵀ, not W's rows");
        }
        if (storedRows != null) {
            throw new IllegalStateException(this + " reads its rows in another order than they are stored");
        }
        return data;
    }

    /** Row r's blocks (rowBytes bytes), in place. */
    public MemorySegment row(int r) {
        if (r < 0 || r >= rows) {
            throw new IllegalArgumentException("row " + r + " of a matrix with " + rows + " rows");
        }
        if (transposed) {
            throw new IllegalStateException(this + " is stored transposed: a row of W is not contiguous");
        }
        return data.asSlice(rowOffset(r), rowBytes);
    }

    /** Where row r's blocks start in the stored data. */
    private long rowOffset(int r) {
        return (storedRows == null ? r : storedRows[r]) * rowBytes;
    }

    /** Bytes of a row of W in its format (a transposed matrix's rows are strided, not stored so). */
    public long rowBytes() {
        return rowBytes;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /**
     * Brings the pages of a matrix in a mapped file into memory and into this process's page tables now
     * ({@link MemorySegment#load}), so that the first product does not stop at each of them; nothing for other memory.
     */
    public void loadPages() {
        if (data.isMapped()) {
            data.load();
        }
    }

    /** Row r as f32 into y[yOff, yOff + cols). */
    public void dequantizeRow(int r, float[] y, int yOff) {
        if (r < 0 || r >= rows) {
            throw new IllegalArgumentException("row " + r + " of a matrix with " + rows + " rows");
        }
        checkVector("dequantizeRow", "y", y, yOff, cols);
        if (transposed) {
            TransposedF32.column(data, rows, cols, r, y, yOff);
            return;
        }
        type.dequantize(data, rowOffset(r), y, yOff, cols);
    }

    /** The whole matrix as row-major f32 (for tests and conversions: this is the inflation the kernels avoid). */
    public float[] dequantize() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            dequantizeRow(r, out, r * cols);
        }
        return out;
    }

    /** y[yOff + r] = Σ_c W[r, c]·x[xOff + c] for every row r. */
    public void matvec(float[] x, int xOff, float[] y, int yOff) {
        checkVector("matvec", "x", x, xOff, cols);
        checkVector("matvec", "y", y, yOff, rows);
        if (transposed) {
            transposedRows(1, x, xOff, cols, y, yOff, rows);
            return;
        }
        float[] prepared = prepare(x, xOff);
        Parallel.forRange(rows, minRows(rowBytes), (r0, r1) -> dots(r0, r1, x, xOff, prepared, y, yOff));
    }

    /**
     * The matrix-vector products of matrices stacked row-wise (q, k and v; gate and up), each part's
     * outputs after the previous part's: y[yOff + rows before part i + r] = part i's row r · x. The
     * parts may differ in type but not in cols. Each output is the value {@link #matvec} of its part
     * gives, bit for bit; the kernel threads take all the rows in one hand-off instead of one per part.
     */
    public static void matvec(List<WeightMatrix> parts, float[] x, int xOff, float[] y, int yOff) {
        if (parts.isEmpty()) {
            return;
        }
        int cols = parts.getFirst().cols, rows = 0;
        long bytes = 0;
        int[] start = new int[parts.size() + 1];
        boolean anyTransposed = false;
        for (int i = 0; i < parts.size(); i++) {
            WeightMatrix m = parts.get(i);
            if (m.cols != cols) {
                throw new IllegalArgumentException("matvec: stacked matrices need equal cols, got " + parts);
            }
            rows = Math.addExact(rows, m.rows);
            start[i + 1] = rows;
            bytes += m.byteSize();
            anyTransposed |= m.transposed;
        }
        if (anyTransposed) {    // a transposed part's threads split columns, not rows: one part after another
            for (int i = 0; i < parts.size(); i++) {
                parts.get(i).matvec(x, xOff, y, yOff + start[i]);
            }
            return;
        }
        checkVector("matvec", "x", x, xOff, cols);
        checkVector("matvec", "y", y, yOff, rows);
        float[][] prepared = new float[parts.size()][];
        for (int i = 0; i < parts.size(); i++) {       // once per format among the parts
            int same = 0;
            while (parts.get(same).type.format != parts.get(i).type.format) {
                same++;
            }
            prepared[i] = same < i ? prepared[same] : parts.get(i).prepare(x, xOff);
        }
        Parallel.forRange(rows, minRows(Math.max(1, bytes / rows)), (r0, r1) -> {
            for (int i = 0; i < parts.size(); i++) {
                int lo = Math.max(r0, start[i]), hi = Math.min(r1, start[i + 1]);
                if (lo < hi) {
                    parts.get(i).dots(lo - start[i], hi - start[i], x, xOff, prepared[i], y, yOff + start[i]);
                }
            }
        });
    }

    /**
     * Reads one int in every 4 KB of s[off, off + len) and its last one, results unused: a product streaming a mapped
     * file in 4 KB pages calls it for the bytes it reads next. The hardware prefetchers stop at each 4 KB page: a sum
     * over a mapped file streamed at 12.7 GB/s on one Zen 4 core against 24.6 with such a read a page ahead (and 31
     * over the heap). Not for memory mapped in 2 MB pages ({@link MappedPages}), where it only costs.
     */
    static void touchPages(MemorySegment s, long off, long len) {
        int seen = 0;
        for (long o = off, end = off + len - 4; o < end; o += 4096) {
            seen |= s.get(QuantSimd.INT_LE, o);
        }
        seen |= s.get(QuantSimd.INT_LE, off + len - 4);
        if (seen == 0x7fc0_0001) {   // never in practice: only so that the reads are not dropped as unused
            touched++;
        }
    }

    /** See {@link #touchPages}. */
    private static int touched;

    /** y[yOff + r] for rows r0 ≤ r &lt; r1. */
    private void dots(int r0, int r1, float[] x, int xOff, float[] prepared, float[] y, int yOff) {
        if (!QuantSimd.VECTOR && type != WeightType.F32) {
            fallbackDots(r0, r1, x, xOff, y, yOff, 1);
            return;
        }
        // Each next row's pages touched first where they are 4 KB pages of native memory (see touchPages). f32 rows
        // stored in order are read eight side by side where the CPU prefers it (MatvecRows), the rest one at a time.
        int r = r0;
        if (type == WeightType.F32 && storedRows == null && MatvecRows.SIDE_BY_SIDE == 8) {
            for (; r + 8 <= r1; r += 8) {
                if (touchPages && r + 8 < r1) {
                    touchPages(data, rowOffset(r + 8), Math.min(8, r1 - r - 8) * rowBytes);
                }
                F32.dot8(data, rowOffset(r), rowBytes, x, xOff, cols, y, yOff + r);
            }
        }
        for (; r < r1; r++) {
            if (touchPages && r + 1 < r1) {
                touchPages(data, rowOffset(r + 1), rowBytes);
            }
            y[yOff + r] = type.format.dot(data, rowOffset(r), x, xOff, cols, prepared);
        }
    }

    public void matvec(float[] x, float[] y) {
        matvec(x, 0, y, 0);
    }

    /**
     * n matrix-vector products, y[yOff + i·ldy + r] = W row r · x[xOff + i·ldx ..] for i &lt; n, each the floats
     * {@link #matvec} gives that row alone (so a sequence's decode never depends on what shares its batch, nor a
     * short prompt's rows on how many there are), unlike {@link #matmul}'s. A matrix stored transposed takes them in
     * one pass over its weights; the others one pass per row.
     */
    public void matvecRows(int n, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        if (!checkRows("matvecRows", n, x, xOff, ldx, y, yOff, ldy)) {
            return;
        }
        if (!transposed) {
            for (int i = 0; i < n; i++) {
                matvec(x, xOff + i * ldx, y, yOff + i * ldy);
            }
            return;
        }
        transposedRows(n, x, xOff, ldx, y, yOff, ldy);
    }

    /**
     * The matrix-vector products of a transposed matrix, one call site for the decode's and a short prompt's (each
     * inlined copy of the kernel is compiled again): the chunks' partial sums ({@link TransposedF32}), a chunk per
     * thread at a time, then their sums, the outputs split across the threads in whole vectors.
     */
    private void transposedRows(int n, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        int chunks = (cols + TransposedF32.CHUNK - 1) / TransposedF32.CHUNK, ldp = chunks * rows;
        float[] partial = Format.scratch(PARTIALS, Math.multiplyExact(n, ldp));
        long chunkBytes = 4L * TransposedF32.CHUNK * rows;
        Parallel.forRange(chunks, (int) Math.max(1, PARALLEL_BYTES / chunkBytes), (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                TransposedF32.axpyRows(data, touchPages, rows, k * TransposedF32.CHUNK,
                        Math.min(cols, (k + 1) * TransposedF32.CHUNK), 0, rows, n, x, xOff, ldx, partial, k * rows, ldp);
            }
        });
        int units = (rows + QuantSimd.L - 1) / QuantSimd.L;
        Parallel.forRange(units, (int) Math.max(1, PARALLEL_BYTES / (4L * chunks * n * QuantSimd.L)), (u0, u1) ->
                TransposedF32.addChunks(partial, rows, chunks, ldp, u0 * QuantSimd.L, Math.min(rows, u1 * QuantSimd.L), n,
                        y, yOff, ldy));
    }

    /**
     * The arguments of n products X [n × cols] (row stride ldx) to Y [n × rows] (row stride ldy), checked for op;
     * false if there is nothing to compute (n = 0).
     */
    private boolean checkRows(String op, int n, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        if (n < 0 || ldx < cols || ldy < rows) {
            throw new IllegalArgumentException(op + ": n = " + n + ", ldx = " + ldx + " (cols " + cols
                    + "), ldy = " + ldy + " (rows " + rows + ")");
        }
        if (n == 0) {
            return false;
        }
        checkVector(op, "X", x, xOff, (long) (n - 1) * ldx + cols);
        checkVector(op, "Y", y, yOff, (long) (n - 1) * ldy + rows);
        return true;
    }

    /** The calling thread's panel of Wᵀ for a transposed matmul (a packed panel of B, up to 768 KB for GPT-2). */
    private static final ThreadLocal<float[]> TRANSPOSED_PANEL = new ThreadLocal<>();

    /** The calling thread's partial sums of transposed products (see {@link Format#scratch}: new arrays cost page faults). */
    private static final ThreadLocal<float[]> PARTIALS = new ThreadLocal<>();

    /**
     * Y = X·Wᵀ: y[yOff + i·ldy + r] = Σ_c W[r, c]·x[xOff + i·ldx + c] for i &lt; n, r &lt; rows
     * (X [n × cols] and Y [n × rows] row-major with row strides ldx ≥ cols, ldy ≥ rows).
     */
    public void matmul(int n, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        if (!checkRows("matmul", n, x, xOff, ldx, y, yOff, ldy)) {
            return;
        }
        if (n == 1) {
            matvec(x, xOff, y, yOff);
            return;
        }
        long work = (long) n * rows * cols;
        if (transposed) {
            int panels = (rows + TransposedF32.PANEL - 1) / TransposedF32.PANEL;
            Parallel.forRange(panels, work < (1 << 18) ? panels : 1, (p0, p1) -> {
                float[] panel = Format.scratch(TRANSPOSED_PANEL, TransposedF32.PANEL * cols);
                for (int p = p0; p < p1; p++) {
                    int r0 = p * TransposedF32.PANEL, width = Math.min(TransposedF32.PANEL, rows - r0);
                    TransposedF32.loadPanel(data, rows, cols, r0, width, panel);
                    // The chunks of the matvec are the kernel's blocks of k: the decode's bits, at any thread count.
                    Gemm.multiplyPackedPanel(n, cols, TransposedF32.CHUNK, x, xOff, ldx, panel, width, y, yOff + r0, ldy);
                }
            });
            return;
        }
        int panels = (rows + PANEL - 1) / PANEL;
        int minPanels = work < (1 << 18) ? panels : 1;
        Parallel.forRange(panels, minPanels, (p0, p1) -> {
            float[] panel = new float[PANEL * cols];
            for (int p = p0; p < p1; p++) {
                int r0 = p * PANEL, pr = Math.min(PANEL, rows - r0);
                for (int j = 0; j < pr; j++) {
                    type.dequantize(data, rowOffset(r0 + j), panel, j * cols, cols);
                }
                PanelTiles.multiply(n, cols, x, xOff, ldx, panel, pr, y, yOff + r0, ldy);
            }
        });
    }

    public void matmul(int n, float[] x, float[] y) {
        matmul(n, x, 0, cols, y, 0, rows);
    }

    /** What the format's dot needs from x besides x (see {@link Format#prepare}); null on the scalar fallback. */
    private float[] prepare(float[] x, int xOff) {
        return QuantSimd.VECTOR ? type.format.prepare(x, xOff, cols) : null;
    }

    /** Vector shapes the in-register kernels do not handle: decode a row with the scalar code, then dot. */
    void fallbackDots(int r0, int r1, float[] x, int xOff, float[] y, int yOff, int incy) {
        float[] row = new float[cols];
        for (int r = r0; r < r1; r++) {
            type.format.dequantize(data, rowOffset(r), row, 0, cols);
            FloatVector acc = FloatVector.zero(Simd.F);
            int c = 0;
            for (int end = Simd.F.loopBound(cols); c < end; c += Simd.LANES) {
                acc = FloatVector.fromArray(Simd.F, row, c).fma(FloatVector.fromArray(Simd.F, x, xOff + c), acc);
            }
            float s = Simd.sum(acc);
            for (; c < cols; c++) {
                s += row[c] * x[xOff + c];
            }
            y[yOff + r * incy] = s;
        }
    }

    private static int minRows(long rowBytes) {
        return (int) Math.max(1, PARALLEL_BYTES / rowBytes);
    }

    private static void checkVector(String op, String name, float[] a, int off, long n) {
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (off < 0 || off + n > a.length) {
            throw new IllegalArgumentException(op + ": " + name + " needs " + n + " values at offset " + off
                    + " but has length " + a.length);
        }
    }

    @Override
    public String toString() {
        return type.ggmlName() + " [" + rows + " × " + cols + "]" + (transposed ? " stored transposed" : "");
    }
}
