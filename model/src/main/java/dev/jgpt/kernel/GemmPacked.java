package dev.jgpt.kernel;

import jdk.incubator.vector.FloatVector;

import static dev.jgpt.kernel.Simd.F;

/**
 * Goto/BLIS-style packed sgemm. op(A) is copied into MR-row panels and op(B) into NR-column
 * panels, so the transposes are absorbed by packing and one register-blocked microkernel serves
 * NN, NT, TN and TT. The microkernel holds an MR × NR tile of C in 24 vector accumulators
 * (6 rows × 4 vectors of 16 floats on AVX-512): per k it loads 4 vectors of B and broadcasts
 * 6 scalars of A, i.e. 24 FMAs per 10 loads.
 *
 * <p>Blocking: a KC × NC block of B is packed once and stays in L2 (256 × 512 floats = 512 KB);
 * a 6 × KC panel of A (6 KB) stays in L1 while it sweeps the whole B block, whose 64-column
 * panels stream from L2 in order (the hardware prefetcher keeps up with one sequential stream).
 * Threads split M or N, whichever keeps more tiles per thread; each packs its own buffers.
 */
final class GemmPacked {
    static final int MR = 6;
    static final int NV = 4;
    static final int L = Simd.LANES;
    static final int NR = NV * L;
    /** Depth of one packed block: bounds the B block (KC × NC) to half of L2. */
    static final int KC = Integer.getInteger("jgpt.gemm.kc", 256);
    /** Columns of one packed B block; a multiple of NR. */
    static final int NC = roundUp(Integer.getInteger("jgpt.gemm.nc", 512), NR);
    /** Rows of A packed at a time (a multiple of MR); the A block is re-used across the B block. */
    static final int MC = roundUp(Integer.getInteger("jgpt.gemm.mc", 96), MR);
    /** Below this many FLOPs one thread is faster than handing work to the pool (~10 µs of work). */
    static final double PARALLEL_FLOPS = 2e6;

    /** Per-thread packing buffers, re-used across calls (pool threads live as long as the pool). */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC];
        /** An MR × NR tile for edges: the kernel writes here, then only the valid part is copied to C. */
        final float[] edge = new float[MR * NR];
    }

    private GemmPacked() {}

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    static void gemm(boolean transA, boolean transB, int M, int N, int K,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        int threads = Parallel.threads();
        int parts = 2.0 * M * N * K < PARALLEL_FLOPS ? 1 : threads;
        int tilesM = (M + MR - 1) / MR, tilesN = (N + NR - 1) / NR;
        // Split the larger side: each part packs the whole of the other operand, so the smaller
        // one is the one duplicated. Fall back to the other side if it has too few tiles to share.
        boolean splitN = N >= M ? tilesN >= parts : tilesM < parts;
        int tiles = splitN ? tilesN : tilesM;
        parts = Math.min(parts, tiles);
        if (parts <= 1) {
            block(transA, transB, 0, M, 0, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        final int nParts = parts;
        Parallel.forRange(nParts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int t0 = (int) ((long) tiles * p / nParts), t1 = (int) ((long) tiles * (p + 1) / nParts);
                if (splitN) {
                    block(transA, transB, 0, M, t0 * NR, Math.min(N, t1 * NR), K,
                            a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
                } else {
                    block(transA, transB, t0 * MR, Math.min(M, t1 * MR), 0, N, K,
                            a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
                }
            }
        });
    }

    /** C[m0:m1, n0:n1] on the calling thread. */
    private static void block(boolean transA, boolean transB, int m0, int m1, int n0, int n1, int K,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate) {
        Buffers buf = BUFFERS.get();
        float[] ap = buf.a, bp = buf.b, edge = buf.edge;
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                boolean add = accumulate || pc > 0;
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, ap);
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = Math.min(MR, mc - ir);
                        int aPanel = ir * kc;
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            int nv = (nr + L - 1) / L;
                            int bPanel = jr * kc;
                            int ci = cOff + (ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR) {
                                kernel4(kc, ap, aPanel, bp, bPanel, c, ci, ldc, add);
                            } else {
                                // Edge tile: compute the full (zero-padded) tile, copy the valid part.
                                kernel(nv, kc, ap, aPanel, bp, bPanel, edge, 0, NR, false);
                                for (int r = 0; r < mr; r++) {
                                    int row = ci + r * ldc;
                                    for (int j = 0; j < nr; j++) {
                                        c[row + j] = add ? c[row + j] + edge[r * NR + j] : edge[r * NR + j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs op(A)[ic:ic+mc, pc:pc+kc] as MR-row panels: panel q holds, for each k, MR consecutive
     * values op(A)[ic+q·MR+r, pc+k]. The rows past mc in the last panel are zero.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            if (transA) {
                // op(A)[i, k] = a[k·lda + i]: MR consecutive values per k.
                for (int k = 0; k < kc; k++) {
                    int src = aOff + (pc + k) * lda + ic + ir;
                    int dst = base + k * MR;
                    for (int r = 0; r < mr; r++) {
                        ap[dst + r] = a[src + r];
                    }
                    for (int r = mr; r < MR; r++) {
                        ap[dst + r] = 0f;
                    }
                }
            } else {
                for (int r = 0; r < mr; r++) {
                    int src = aOff + (ic + ir + r) * lda + pc;
                    for (int k = 0; k < kc; k++) {
                        ap[base + k * MR + r] = a[src + k];
                    }
                }
                for (int r = mr; r < MR; r++) {
                    for (int k = 0; k < kc; k++) {
                        ap[base + k * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs op(B)[pc:pc+kc, jc:jc+nc] as NR-column panels: panel p (at p·NR·kc) holds, for each k,
     * NR consecutive values op(B)[pc+k, jc+p·NR+j]. The last panel is zero-padded to NR.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            if (transB) {
                // op(B)[k, j] = b[j·ldb + k]: read each row of b contiguously, write with stride NR.
                for (int j = 0; j < nr; j++) {
                    int src = bOff + (jc + jr + j) * ldb + pc;
                    for (int k = 0; k < kc; k++) {
                        bp[base + k * NR + j] = b[src + k];
                    }
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    System.arraycopy(b, bOff + (pc + k) * ldb + jc + jr, bp, base + k * NR, nr);
                }
            }
            if (nr < NR) {
                for (int k = 0; k < kc; k++) {
                    java.util.Arrays.fill(bp, base + k * NR + nr, base + (k + 1) * NR, 0f);
                }
            }
        }
    }

    /** Narrow edge tiles use fewer vectors; all write an MR × (nv·L) tile. */
    private static void kernel(int nv, int kc, float[] ap, int ao, float[] bp, int bo,
                               float[] c, int ci, int ldc, boolean add) {
        switch (nv) {
            case 4 -> kernel4(kc, ap, ao, bp, bo, c, ci, ldc, add);
            case 3, 2 -> kernel2x(nv, kc, ap, ao, bp, bo, c, ci, ldc, add);
            default -> kernel1(kc, ap, ao, bp, bo, c, ci, ldc, add);
        }
    }

    /** The hot loop: C[6 × 4L] (+)= Apanel[6 × kc] · Bpanel[kc × 4L]. */
    static void kernel4(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bk + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, bp, bk + 3 * L);
            FloatVector x = FloatVector.broadcast(F, ap[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(F, ap[ak + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(F, ap[ak + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(F, ap[ak + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(F, ap[ak + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(F, ap[ak + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        store(c00, c, ci, add); store(c01, c, ci + L, add); store(c02, c, ci + 2 * L, add); store(c03, c, ci + 3 * L, add);
        ci += ldc;
        store(c10, c, ci, add); store(c11, c, ci + L, add); store(c12, c, ci + 2 * L, add); store(c13, c, ci + 3 * L, add);
        ci += ldc;
        store(c20, c, ci, add); store(c21, c, ci + L, add); store(c22, c, ci + 2 * L, add); store(c23, c, ci + 3 * L, add);
        ci += ldc;
        store(c30, c, ci, add); store(c31, c, ci + L, add); store(c32, c, ci + 2 * L, add); store(c33, c, ci + 3 * L, add);
        ci += ldc;
        store(c40, c, ci, add); store(c41, c, ci + L, add); store(c42, c, ci + 2 * L, add); store(c43, c, ci + 3 * L, add);
        ci += ldc;
        store(c50, c, ci, add); store(c51, c, ci + L, add); store(c52, c, ci + 2 * L, add); store(c53, c, ci + 3 * L, add);
    }

    /**
     * Edge kernel for 2 or 3 vectors (nv): computes 3 vectors regardless and stores nv of them.
     * The B panel is zero-padded to NR, so the extra vector reads zeros.
     */
    private static void kernel2x(int nv, int kc, float[] ap, int ao, float[] bp, int bo,
                                 float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bk + 2 * L);
            FloatVector x = FloatVector.broadcast(F, ap[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02);
            x = FloatVector.broadcast(F, ap[ak + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12);
            x = FloatVector.broadcast(F, ap[ak + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22);
            x = FloatVector.broadcast(F, ap[ak + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32);
            x = FloatVector.broadcast(F, ap[ak + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42);
            x = FloatVector.broadcast(F, ap[ak + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52);
        }
        FloatVector[] rows = {c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51, c52};
        for (int r = 0; r < MR; r++) {
            for (int v = 0; v < nv; v++) {
                store(rows[r * 3 + v], c, ci + r * ldc + v * L, add);
            }
        }
    }

    private static void kernel1(int kc, float[] ap, int ao, float[] bp, int bo,
                                float[] c, int ci, int ldc, boolean add) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        for (int k = 0; k < kc; k++) {
            int ak = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bo + k * NR);
            c0 = b0.fma(FloatVector.broadcast(F, ap[ak]), c0);
            c1 = b0.fma(FloatVector.broadcast(F, ap[ak + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(F, ap[ak + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(F, ap[ak + 3]), c3);
            c4 = b0.fma(FloatVector.broadcast(F, ap[ak + 4]), c4);
            c5 = b0.fma(FloatVector.broadcast(F, ap[ak + 5]), c5);
        }
        store(c0, c, ci, add);
        store(c1, c, ci + ldc, add);
        store(c2, c, ci + 2 * ldc, add);
        store(c3, c, ci + 3 * ldc, add);
        store(c4, c, ci + 4 * ldc, add);
        store(c5, c, ci + 5 * ldc, add);
    }

    private static void store(FloatVector v, float[] c, int ci, boolean add) {
        if (add) {
            v = v.add(FloatVector.fromArray(F, c, ci));
        }
        v.intoArray(c, ci);
    }
}
