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
 * <p>Blocking (L1 48 KB, L2 1 MB per core): a KC × NR micro-panel of B (128 × 64 floats = 32 KB)
 * stays in L1 while the kernel sweeps every MR-row panel of the packed A block (MC × KC, up to
 * 512 KB, in L2); the packed B block (KC × NC) sits in L2/L3 and each of its micro-panels is
 * brought to L1 once per A block. With MC and NC this large, most shapes pack A and B only once.
 * Threads split M or N, whichever keeps more tiles per thread; each packs its own buffers.
 */
final class GemmPacked {
    static final int MR = 6;
    static final int NV = 4;
    static final int L = Simd.LANES;
    static final int NR = NV * L;
    /** Depth of one packed block: a KC × NR micro-panel of B must stay in L1. */
    static final int KC = Integer.getInteger("jgpt.gemm.kc", 128);
    /** Rows of A packed at a time (a multiple of MR): the A block (MC × KC) stays in L2. */
    static final int MC = roundUp(Integer.getInteger("jgpt.gemm.mc", 1020), MR);
    /** Columns of one packed B block (a multiple of NR). */
    static final int NC = roundUp(Integer.getInteger("jgpt.gemm.nc", 4096), NR);
    /** Below this many FLOPs one thread is faster than handing work to the pool (~10 µs of work). */
    static final double PARALLEL_FLOPS = 2e6;

    /** Per-thread packing buffers, re-used across calls (pool threads live as long as the pool). */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC];
        /** An MR × NR tile for edges: the kernel writes here, then only the valid part is copied to C. */
        final float[] edge = new float[MR * NR];
        /** Scratch for one 16 × 16 transpose. */
        final float[] t16 = new float[256];
    }

    private GemmPacked() {}

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
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
        float[] ap = buf.a, bp = buf.b, edge = buf.edge, t16 = buf.t16;
        // Equal blocks (rounded to whole panels) rather than full blocks plus a sliver.
        int ncBlock = roundUp(ceilDiv(n1 - n0, ceilDiv(n1 - n0, NC)), NR);
        int mcBlock = roundUp(ceilDiv(m1 - m0, ceilDiv(m1 - m0, MC)), MR);
        for (int jc = n0; jc < n1; jc += ncBlock) {
            int nc = Math.min(ncBlock, n1 - jc);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp, t16);
                boolean add = accumulate || pc > 0;
                for (int ic = m0; ic < m1; ic += mcBlock) {
                    int mc = Math.min(mcBlock, m1 - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            tile(ap, ir, mc, bp, jr, nc, kc, c, cOff + (ic + ir) * ldc + jc + jr, ldc, add, edge);
                        }
                    }
                }
            }
        }
    }

    /** One MR × NR tile of C at ci: C (+)= Apanel(ir) · Bpanel(jr). */
    private static void tile(float[] ap, int ir, int mc, float[] bp, int jr, int nc, int kc,
                             float[] c, int ci, int ldc, boolean add, float[] edge) {
        int mr = Math.min(MR, mc - ir), nr = Math.min(NR, nc - jr);
        int aPanel = ir * kc, bPanel = jr * kc;
        if (mr == MR && nr == NR) {
            // The kernel always adds: a flag there costs a register and the 24-accumulator loop spills.
            if (!add) {
                for (int r = 0; r < MR; r++) {
                    java.util.Arrays.fill(c, ci + r * ldc, ci + r * ldc + NR, 0f);
                }
            }
            kernel4(kc, ap, aPanel, bp, bPanel, c, ci, ldc);
        } else {
            // Edge tile: compute the full (zero-padded) tile into a scratch tile, copy the valid part.
            java.util.Arrays.fill(edge, 0f);
            kernel((nr + L - 1) / L, kc, ap, aPanel, bp, bPanel, edge, 0, NR);
            for (int r = 0; r < mr; r++) {
                int row = ci + r * ldc;
                for (int j = 0; j < nr; j++) {
                    c[row + j] = add ? c[row + j] + edge[r * NR + j] : edge[r * NR + j];
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
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] bp, float[] t16) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            if (transB) {
                // op(B)[k, j] = b[j·ldb + k]: a transpose, in 16 × 16 register blocks where possible.
                int j = 0;
                if (L == 16) {
                    for (; j + 16 <= nr; j += 16) {
                        int src = bOff + (jc + jr + j) * ldb + pc;
                        int k = 0;
                        for (; k + 16 <= kc; k += 16) {
                            Transpose16.firstHalf(b, src + k, ldb, t16);
                            Transpose16.secondHalf(t16, bp, base + k * NR + j, NR);
                        }
                        for (; k < kc; k++) {
                            for (int jj = 0; jj < 16; jj++) {
                                bp[base + k * NR + j + jj] = b[src + jj * ldb + k];
                            }
                        }
                    }
                }
                for (; j < nr; j++) {
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

    /** Edge tiles narrower than NR use a kernel with fewer vectors (the B panel is zero-padded to whole vectors). */
    private static void kernel(int nv, int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc) {
        switch (nv) {
            case 4 -> kernel4(kc, ap, ao, bp, bo, c, ci, ldc);
            case 3 -> kernel3(kc, ap, ao, bp, bo, c, ci, ldc);
            case 2 -> kernel2(kc, ap, ao, bp, bo, c, ci, ldc);
            default -> kernel1(kc, ap, ao, bp, bo, c, ci, ldc);
        }
    }

    /**
     * The hot loop: C[6 × 4L] += Apanel[6 × kc] · Bpanel[kc × 4L], with 24 accumulators, 4 B vectors
     * and 4 broadcasts live: all 32 vector registers, so keep it free of anything else.
     */
    static void kernel4(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z;
        FloatVector c50 = z, c51 = z, c52 = z, c53 = z;
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
        // C += tile, written out: a helper here would not be inlined (the method is at C2's node limit)
        // and every vector would be boxed.
        int r0 = ci;
        c00.add(FloatVector.fromArray(F, c, r0)).intoArray(c, r0);
        c01.add(FloatVector.fromArray(F, c, r0 + L)).intoArray(c, r0 + L);
        c02.add(FloatVector.fromArray(F, c, r0 + 2 * L)).intoArray(c, r0 + 2 * L);
        c03.add(FloatVector.fromArray(F, c, r0 + 3 * L)).intoArray(c, r0 + 3 * L);
        int r1 = ci + ldc;
        c10.add(FloatVector.fromArray(F, c, r1)).intoArray(c, r1);
        c11.add(FloatVector.fromArray(F, c, r1 + L)).intoArray(c, r1 + L);
        c12.add(FloatVector.fromArray(F, c, r1 + 2 * L)).intoArray(c, r1 + 2 * L);
        c13.add(FloatVector.fromArray(F, c, r1 + 3 * L)).intoArray(c, r1 + 3 * L);
        int r2 = ci + 2 * ldc;
        c20.add(FloatVector.fromArray(F, c, r2)).intoArray(c, r2);
        c21.add(FloatVector.fromArray(F, c, r2 + L)).intoArray(c, r2 + L);
        c22.add(FloatVector.fromArray(F, c, r2 + 2 * L)).intoArray(c, r2 + 2 * L);
        c23.add(FloatVector.fromArray(F, c, r2 + 3 * L)).intoArray(c, r2 + 3 * L);
        int r3 = ci + 3 * ldc;
        c30.add(FloatVector.fromArray(F, c, r3)).intoArray(c, r3);
        c31.add(FloatVector.fromArray(F, c, r3 + L)).intoArray(c, r3 + L);
        c32.add(FloatVector.fromArray(F, c, r3 + 2 * L)).intoArray(c, r3 + 2 * L);
        c33.add(FloatVector.fromArray(F, c, r3 + 3 * L)).intoArray(c, r3 + 3 * L);
        int r4 = ci + 4 * ldc;
        c40.add(FloatVector.fromArray(F, c, r4)).intoArray(c, r4);
        c41.add(FloatVector.fromArray(F, c, r4 + L)).intoArray(c, r4 + L);
        c42.add(FloatVector.fromArray(F, c, r4 + 2 * L)).intoArray(c, r4 + 2 * L);
        c43.add(FloatVector.fromArray(F, c, r4 + 3 * L)).intoArray(c, r4 + 3 * L);
        int r5 = ci + 5 * ldc;
        c50.add(FloatVector.fromArray(F, c, r5)).intoArray(c, r5);
        c51.add(FloatVector.fromArray(F, c, r5 + L)).intoArray(c, r5 + L);
        c52.add(FloatVector.fromArray(F, c, r5 + 2 * L)).intoArray(c, r5 + 2 * L);
        c53.add(FloatVector.fromArray(F, c, r5 + 3 * L)).intoArray(c, r5 + 3 * L);
    }

    static void kernel3(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z;
        FloatVector c50 = z, c51 = z, c52 = z;
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
        // C += tile, written out: a helper here would not be inlined (the method is at C2's node limit)
        // and every vector would be boxed.
        int r0 = ci;
        c00.add(FloatVector.fromArray(F, c, r0)).intoArray(c, r0);
        c01.add(FloatVector.fromArray(F, c, r0 + L)).intoArray(c, r0 + L);
        c02.add(FloatVector.fromArray(F, c, r0 + 2 * L)).intoArray(c, r0 + 2 * L);
        int r1 = ci + ldc;
        c10.add(FloatVector.fromArray(F, c, r1)).intoArray(c, r1);
        c11.add(FloatVector.fromArray(F, c, r1 + L)).intoArray(c, r1 + L);
        c12.add(FloatVector.fromArray(F, c, r1 + 2 * L)).intoArray(c, r1 + 2 * L);
        int r2 = ci + 2 * ldc;
        c20.add(FloatVector.fromArray(F, c, r2)).intoArray(c, r2);
        c21.add(FloatVector.fromArray(F, c, r2 + L)).intoArray(c, r2 + L);
        c22.add(FloatVector.fromArray(F, c, r2 + 2 * L)).intoArray(c, r2 + 2 * L);
        int r3 = ci + 3 * ldc;
        c30.add(FloatVector.fromArray(F, c, r3)).intoArray(c, r3);
        c31.add(FloatVector.fromArray(F, c, r3 + L)).intoArray(c, r3 + L);
        c32.add(FloatVector.fromArray(F, c, r3 + 2 * L)).intoArray(c, r3 + 2 * L);
        int r4 = ci + 4 * ldc;
        c40.add(FloatVector.fromArray(F, c, r4)).intoArray(c, r4);
        c41.add(FloatVector.fromArray(F, c, r4 + L)).intoArray(c, r4 + L);
        c42.add(FloatVector.fromArray(F, c, r4 + 2 * L)).intoArray(c, r4 + 2 * L);
        int r5 = ci + 5 * ldc;
        c50.add(FloatVector.fromArray(F, c, r5)).intoArray(c, r5);
        c51.add(FloatVector.fromArray(F, c, r5 + L)).intoArray(c, r5 + L);
        c52.add(FloatVector.fromArray(F, c, r5 + 2 * L)).intoArray(c, r5 + 2 * L);
    }

    static void kernel2(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector b1 = FloatVector.fromArray(F, bp, bk + L);
            FloatVector x = FloatVector.broadcast(F, ap[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, ap[ak + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, ap[ak + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, ap[ak + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, ap[ak + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, ap[ak + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        // C += tile, written out: a helper here would not be inlined (the method is at C2's node limit)
        // and every vector would be boxed.
        int r0 = ci;
        c00.add(FloatVector.fromArray(F, c, r0)).intoArray(c, r0);
        c01.add(FloatVector.fromArray(F, c, r0 + L)).intoArray(c, r0 + L);
        int r1 = ci + ldc;
        c10.add(FloatVector.fromArray(F, c, r1)).intoArray(c, r1);
        c11.add(FloatVector.fromArray(F, c, r1 + L)).intoArray(c, r1 + L);
        int r2 = ci + 2 * ldc;
        c20.add(FloatVector.fromArray(F, c, r2)).intoArray(c, r2);
        c21.add(FloatVector.fromArray(F, c, r2 + L)).intoArray(c, r2 + L);
        int r3 = ci + 3 * ldc;
        c30.add(FloatVector.fromArray(F, c, r3)).intoArray(c, r3);
        c31.add(FloatVector.fromArray(F, c, r3 + L)).intoArray(c, r3 + L);
        int r4 = ci + 4 * ldc;
        c40.add(FloatVector.fromArray(F, c, r4)).intoArray(c, r4);
        c41.add(FloatVector.fromArray(F, c, r4 + L)).intoArray(c, r4 + L);
        int r5 = ci + 5 * ldc;
        c50.add(FloatVector.fromArray(F, c, r5)).intoArray(c, r5);
        c51.add(FloatVector.fromArray(F, c, r5 + L)).intoArray(c, r5 + L);
    }

    static void kernel1(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int ci, int ldc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z;
        FloatVector c10 = z;
        FloatVector c20 = z;
        FloatVector c30 = z;
        FloatVector c40 = z;
        FloatVector c50 = z;
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * NR, ak = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bk);
            FloatVector x = FloatVector.broadcast(F, ap[ak]);
            c00 = b0.fma(x, c00);
            x = FloatVector.broadcast(F, ap[ak + 1]);
            c10 = b0.fma(x, c10);
            x = FloatVector.broadcast(F, ap[ak + 2]);
            c20 = b0.fma(x, c20);
            x = FloatVector.broadcast(F, ap[ak + 3]);
            c30 = b0.fma(x, c30);
            x = FloatVector.broadcast(F, ap[ak + 4]);
            c40 = b0.fma(x, c40);
            x = FloatVector.broadcast(F, ap[ak + 5]);
            c50 = b0.fma(x, c50);
        }
        // C += tile, written out: a helper here would not be inlined (the method is at C2's node limit)
        // and every vector would be boxed.
        int r0 = ci;
        c00.add(FloatVector.fromArray(F, c, r0)).intoArray(c, r0);
        int r1 = ci + ldc;
        c10.add(FloatVector.fromArray(F, c, r1)).intoArray(c, r1);
        int r2 = ci + 2 * ldc;
        c20.add(FloatVector.fromArray(F, c, r2)).intoArray(c, r2);
        int r3 = ci + 3 * ldc;
        c30.add(FloatVector.fromArray(F, c, r3)).intoArray(c, r3);
        int r4 = ci + 4 * ldc;
        c40.add(FloatVector.fromArray(F, c, r4)).intoArray(c, r4);
        int r5 = ci + 5 * ldc;
        c50.add(FloatVector.fromArray(F, c, r5)).intoArray(c, r5);
    }
}
