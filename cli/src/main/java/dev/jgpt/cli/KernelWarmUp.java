package dev.jgpt.cli;

import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.kernel.quant.WeightType;
import dev.jgpt.model.Family;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import dev.jgpt.model.Param;
import dev.jgpt.model.io.ModelDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the inference kernels on small inputs while the model loads, so that the JIT compiles them (C2) during the
 * seconds of loading instead of during the first forward. A Vector API kernel that is not yet compiled runs hundreds
 * of times slower (every vector operation an object), and the first forward's matrix products are long loops: without
 * this, GPT-2's first prompt took seconds, most of them running {@code GemmVec.dots} uncompiled and then compiling
 * it again and again for the loop it was stuck in. (JDK 25's AOT cache cannot carry method profiles here: it keeps
 * none when an incubator module, the Vector API, is in the boot layer; bin/aot-cache.sh says why.)
 *
 * <p>It runs rounds of: a forward of a tiny model (a 9-token prompt and one more token, through every kernel of the
 * real forward: its heads as wide as the real model's, so that the attention kernels' loops take the branches the
 * real ones take), many small matrix-vector products through every branch of the product kernels, and a few larger
 * products split across the kernel threads as the real model's are. It ends by itself once a round's forward and
 * large products run at compiled speed, or when {@link #finish} or {@link #close} is called; compilations it started
 * go on without it. Nothing it computes is used: the model's results do not depend on it. {@code -Djgpt.warmup=false}
 * leaves it out. (Until GPT-2's 9-token prompt and first token took 0.33-0.4 s after a warm-up of three tiny forwards
 * and then products only: the layer norms, attention and GELU were still interpreted or compiled by C1 and compiled
 * by C2 during that prompt. The rounds' forwards have C2 compile them beforehand: 0.09-0.14 s. Zen 4, 2 cores,
 * other work paused.)
 *
 * <p>A model whose matrices are used in place from its mapped safetensors ({@link ModelDir#loadMapped}) runs other
 * kernels (the {@link WeightMatrix} products) on other memory: the tiny model's matrices are then packed over a
 * mapped scratch file as the real model's are (of its family: GPT-2's transposed Conv1D weights or Llama's q/k/v
 * parts), and the small products are of mapped matrices too. On mapped memory, not heap or native: a kernel call site
 * that meets two kinds of segment is compiled for both, and runs at about half speed.
 */
final class KernelWarmUp implements AutoCloseable {
    /** Once the model is loaded, how long {@link #finish} lets the warm-up go on to end by itself, at most. */
    private static final long FINISH_MILLIS = 1_000;
    /** Small matrix-vector products in batches of 72 (every shape below) a round; at most some seconds of rounds. */
    private static final int BATCH = 72, MAX_ROUNDS = 20_000;
    /**
     * A round's bound per multiply-add of its timed part, the tiny forward and the large products, in picoseconds
     * (compiled by C2: ~0.1 ns on Zen 4; by C1: 1-50 ns). Timed without the small products: their calls' overhead, not
     * their multiply-adds, sets their time.
     */
    private static final long COMPILED_PICOS_PER_MAC = 400;
    /** The heap products' large one: [LARGE_ROWS × LARGE_K]. */
    private static final int LARGE_ROWS = 448, LARGE_K = 200;
    /** Rows 9, 7, 5 (two groups of four or one, and a rest) of K = 35 or 32. */
    private static final int WARM_ROWS = 9, WARM_K = 35;
    /** Odd, so the head's rows end in a part of fewer than four (the real vocabularies do: GPT-2's 50,257). */
    private static final int VOCAB = 259;
    /** GPT-2's head width (and most Llamas'): the attention kernels' loops take the branches the real model's take. */
    private static final int HEAD_DIM = 64;
    private static final int[] PROMPT = {1, 17, 42, 5, 99, 3, 250, 7, 64};

    private final Thread thread;
    /** The model directory whose mapped matrices the real forward will run; null for f32 arrays. */
    private final Path mappedModel;
    /** The types of its matrices, as far as the warm-up could read them. */
    private java.util.Set<WeightType> matrixTypes = java.util.Set.of(WeightType.F32);
    private volatile boolean stop;
    /** Whether it ran to its end (stopped or not) rather than ending on an exception: for tests. */
    private volatile boolean completed;

    private KernelWarmUp(Path mappedModel) {
        this.mappedModel = mappedModel;
        thread = Thread.ofPlatform().name("jgpt-warm-up").daemon().start(this::run);
    }

    /** Starts warming up, for f32 arrays, on a thread of its own; null (none) with {@code -Djgpt.warmup=false}, to compare. */
    static KernelWarmUp start() {
        return start(null);
    }

    /**
     * Starts warming up for the model directory {@code mappedModel} loaded with its matrices in place (f32 arrays if
     * null); null (none) with {@code -Djgpt.warmup=false}.
     */
    static KernelWarmUp start(Path mappedModel) {
        return Boolean.parseBoolean(System.getProperty("jgpt.warmup", "true")) ? new KernelWarmUp(mappedModel) : null;
    }

    private void run() {
        try {
            StartupTrace.mark("warm-up start");
            GPT tiny = mappedModel == null ? new GPT(GPTConfig.of(VOCAB, 32, 1, 2, 2 * HEAD_DIM), 1) : tinyMapped(mappedModel);
            InferenceSession session = new InferenceSession(tiny);
            // About: the packed matrices for every token (the head runs for fewer). The f32 tiny model has none, so
            // its bound is the large products' alone, which its compiled forward fits within as well.
            long forwardMacs = 0;
            for (Param p : tiny.parameters()) {
                forwardMacs += p.isPacked() ? (PROMPT.length + 1L) * p.size() : 0;
            }
            Products products = mappedModel == null ? heapProducts() : mappedProducts();
            for (int round = 0; round < MAX_ROUNDS && !stop; round++) {
                long t0 = System.nanoTime();
                session.reset();
                session.append(PROMPT);
                session.append(PROMPT[round % PROMPT.length]);
                long t1 = System.nanoTime();
                products.small();
                long t2 = System.nanoTime();
                long checkMacs = products.large();
                long t3 = System.nanoTime();
                if (round == 0) {
                    StartupTrace.mark("warm-up first round");
                }
                long timed = t1 - t0 + t3 - t2, bound = (forwardMacs + checkMacs) * COMPILED_PICOS_PER_MAC / 1000;
                if (timed < bound) {
                    break;
                }
            }
            StartupTrace.mark("warm-up done");
            completed = true;
        } catch (RuntimeException | OutOfMemoryError | IOException e) {
            // only a warm-up: the real forward compiles what this did not
        }
    }

    /** A round's matrix-vector products besides the tiny model's. */
    private interface Products {
        /** Many small ones, through every branch of the kernels: the calls, more than loop turns, make the JIT compile them. */
        void small();

        /** A few large enough to be split across the kernel threads, as the real model's are; returns their multiply-adds. */
        long large();
    }

    /** Heap f32 products: rows in groups of four and a rest, prompt rows 1 to 9, whole vectors and a tail. */
    private static Products heapProducts() {
        float[] w = new float[LARGE_ROWS * LARGE_K], x = new float[9 * LARGE_K], y = new float[9 * LARGE_ROWS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) * 0.25f - 0.5f;
        }
        return new Products() {
            @Override
            public void small() {
                for (int i = 0; i < BATCH; i++) {
                    int k = i % 2 == 0 ? WARM_K : WARM_K - 3, rows = WARM_ROWS - 2 * (i % 3);
                    Gemm.linearRows(y, 0, x, 0, w, null, 1 + i % 9, k, rows);
                    Gemm.matvec(y, 0, w, 0, x, 0, rows, k, i % 4 == 0);
                }
            }

            @Override
            public long large() {
                Gemm.linearRows(y, 0, x, 0, w, null, 9, LARGE_K, LARGE_ROWS);
                return 9L * LARGE_K * LARGE_ROWS;
            }
        };
    }

    /**
     * A tiny model of the family {@code model}'s config.json names (GPT-2's if it cannot be read), its matrices packed
     * as {@link ModelDir#loadMapped} packs the real model's (GPT-2's Conv1D weights transposed, Llama's q/k/v parts;
     * the position table in an array), over slices of one mapped scratch file. No product of it forks onto the kernel
     * threads.
     */
    private GPT tinyMapped(Path model) throws IOException {
        Family family;
        int hd = HEAD_DIM;
        try {
            GPTConfig real = ModelDir.readConfig(model);
            family = real.family();
            hd = real.headDim();
            matrixTypes = ModelDir.matrixTypes(model);
        } catch (IOException | RuntimeException e) {
            family = Family.GPT2;
        }
        GPTConfig cfg = family == Family.GPT2 ? GPTConfig.of(VOCAB, 32, 1, 2, 2 * hd)
                : GPTConfig.llama(VOCAB, 32, 1, 2, 1, 2 * hd, 4 * hd).toBuilder().family(family)
                        .qkvBias(family == Family.QWEN2).tiedEmbeddings(false).build();
        GPT tiny = GPT.uninitialized(cfg, name -> !name.endsWith("wpe.weight"));
        long bytes = 0;
        for (Param p : tiny.parameters()) {
            bytes += p.isPacked() ? 4L * p.size() : 0;
        }
        MemorySegment scratch = mappedScratch(bytes);
        long at = 0;
        for (Param p : tiny.parameters()) {
            if (p.isPacked()) {
                List<WeightMatrix> parts = new ArrayList<>();
                for (Param.Stored s : p.stored) {
                    MemorySegment part = scratch.asSlice(at, 4L * s.rows() * p.rowSize());
                    at += part.byteSize();
                    parts.add(s.transposed() ? WeightMatrix.wrapTransposed(s.rows(), p.rowSize(), part)
                            : WeightMatrix.wrap(WeightType.F32, s.rows(), p.rowSize(), part));
                }
                p.pack(parts);
            }
        }
        return tiny;
    }

    /**
     * Products with f32 matrices in a mapped scratch file, as the real model's (rows four at a time and a rest; stored
     * transposed; whole vectors and scalar tails; one row of X, the decode, or 2 to 9, a prompt's).
     */
    private Products mappedProducts() throws IOException {
        // [rows × cols]: F32 rows in groups of four and a rest, with a vector and a tail or whole vectors; transposed,
        // a vector of outputs and a rest (or a full panel and a part), four columns at a time and a rest, or not. The
        // last two are large enough to be split across the kernel threads, as the real model's are: a product
        // compiled where it never forked is compiled again at the real one's first fork, and its callers with it.
        // The rows' shapes again in f16 or bf16 if the model's matrices are stored so (their own dot kernels).
        List<WeightType> types = new ArrayList<>(List.of(WeightType.F32, WeightType.F32, WeightType.F32, WeightType.F32));
        List<int[]> shapes = new ArrayList<>(List.of(new int[] {5, WARM_K - 16}, new int[] {5, 16}, new int[] {19, 7},
                new int[] {35, 8}));
        for (WeightType half : List.of(WeightType.F16, WeightType.BF16)) {
            if (matrixTypes.contains(half)) {
                types.addAll(List.of(half, half));
                shapes.addAll(List.of(new int[] {5, WARM_K - 16}, new int[] {5, 16}));
            }
        }
        int small = shapes.size();
        types.addAll(List.of(WeightType.F32, WeightType.F32));
        shapes.addAll(List.of(new int[] {900, 19}, new int[] {448, 200}));
        boolean[] transposed = new boolean[shapes.size()];
        transposed[2] = transposed[3] = transposed[shapes.size() - 1] = true;
        long bytes = 0;
        for (int k = 0; k < shapes.size(); k++) {
            bytes += shapes.get(k)[0] * types.get(k).rowBytes(shapes.get(k)[1]);
        }
        MemorySegment scratch = mappedScratch(bytes);
        List<WeightMatrix> matrices = new ArrayList<>();
        long at = 0;
        for (int k = 0; k < shapes.size(); k++) {
            int rows = shapes.get(k)[0], cols = shapes.get(k)[1];
            MemorySegment part = scratch.asSlice(at, rows * types.get(k).rowBytes(cols));
            at += part.byteSize();
            matrices.add(transposed[k] ? WeightMatrix.wrapTransposed(rows, cols, part)
                    : WeightMatrix.wrap(types.get(k), rows, cols, part));
        }
        float[] x = new float[9 * 200], y = new float[9 * 900];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) * 0.25f - 0.5f;
        }
        return new Products() {
            @Override
            public void small() {
                for (int i = 0; i < BATCH; i++) {
                    WeightMatrix m = matrices.get(i % small);
                    int n = i % 8 < 6 ? 1 : 2 + (i / 8) % 8;   // a decode step, or a short prompt's rows
                    m.matvecRows(n, x, 0, m.cols(), y, 0, m.rows());
                }
            }

            @Override
            public long large() {
                long macs = 0;
                for (int k = small; k < matrices.size(); k++) {   // 9 rows: every phase forks
                    WeightMatrix m = matrices.get(k);
                    m.matvecRows(9, x, 0, m.cols(), y, 0, m.rows());
                    macs += 9L * m.rows() * m.cols();
                }
                return macs;
            }
        };
    }

    /** n bytes of a temporary file (deleted at once), mapped read-only: memory of the kind the real model's is. */
    private static MemorySegment mappedScratch(long n) throws IOException {
        Path file = Files.createTempFile("jgpt-warm-up", ".f32");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate((int) n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; b.remaining() >= 4; i++) {
                b.putFloat((i % 11) * 0.125f - 0.625f);
            }
            ch.write(b.flip(), 0);
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, n, Arena.ofAuto());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    boolean completed() {
        return completed;
    }

    /** Whether it is still warming up. */
    boolean running() {
        return thread.isAlive();
    }

    /**
     * The model is loaded: lets the warm-up end by itself (at most {@link #FINISH_MILLIS}), then stops it and waits for
     * it. Until the JIT has compiled the products, a prompt's would run uncompiled, which is slower than this wait,
     * and the JIT would compile that prompt's loops besides: GPT-2's 9-token prompt and first token took 1.0-1.3 s
     * when they started as soon as the model had loaded, 0.3-0.67 s after this wait of 0-0.5 s (Zen 5, 2 cores,
     * other work paused).
     */
    void finish() {
        try {
            thread.join(FINISH_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Stops the warm-up and waits for it: no forward of it runs after this. */
    @Override
    public void close() {
        stop = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
