package dev.jgpt.model.io;

import dev.jgpt.kernel.quant.WeightMatrix;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InferenceSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ModelDir#loadMapped(Path, Path, java.util.function.Consumer)} with a side file: GPT-2's Conv1D weights read
 * row-major from it compute what the copied model computes, the file is written once and read back later, and a
 * changed model, a damaged file or an unusable cache directory never gives wrong weights.
 */
class RowMajorCacheTest {
    static final String C_ATTN = "transformer.h.0.attn.c_attn.weight", C_PROJ = "transformer.h.1.mlp.c_proj.weight";

    @TempDir
    Path tmp;

    private final List<String> notes = new ArrayList<>();

    private Path model(int seed) throws IOException {
        GPT m = new GPT(GPTConfig.of(67, 32, 2, 2, 20), seed);
        MappedLoadTest.randomizeVectors(m);
        Path dir = tmp.resolve("model");
        ModelDir.save(m, dir);
        return dir;
    }

    private GPT load(Path dir, Path cache) throws IOException {
        return ModelDir.loadMapped(dir, cache, notes::add);
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void convWeightsAreReadRowMajorAndGiveTheCopiedModelsLogitsAndTokens() throws IOException {
        Path dir = model(5), cache = tmp.resolve("cache");
        GPT cached = load(dir, cache);
        assertEquals(1, notes.size(), "one line when the file is written: " + notes);
        assertTrue(notes.getFirst().contains(cache.toString()) && notes.getFirst().contains("MB"), notes.getFirst());
        WeightMatrix attn = cached.param(C_ATTN).packed().getFirst();
        assertFalse(attn.isTransposed(), "read row-major from the side file");
        assertEquals(60, attn.rows());
        assertEquals(1, files(cache).size(), "the side file alone, no temporary file: " + files(cache));
        GPT heap = ModelDir.load(dir);
        assertArrayEquals(heap.param(C_PROJ).data, cached.param(C_PROJ).packed().getFirst().dequantize());
        MappedLoadTest.assertSameComputation(heap, cached);
        MappedLoadTest.assertSameComputation(ModelDir.loadMapped(dir), cached);   // greedy tokens as the in-place path's
    }

    /** The prompt's matrix products and the decode's matrix-vector products give the same bits over the side file. */
    @Test
    void aPromptAndItsTokensOneAtATimeGiveTheSameBits() throws IOException {
        GPT cached = load(model(8), tmp.resolve("cache"));
        int[] prompt = MappedLoadTest.PROMPT;
        float[] whole = new InferenceSession(cached, 32).append(prompt).clone();
        InferenceSession one = new InferenceSession(cached, 32);
        float[] last = null;
        for (int t : prompt) {
            last = one.append(t);
        }
        assertArrayEquals(whole, last);
    }

    @Test
    void theFileIsWrittenOnceThenMapped() throws IOException {
        Path dir = model(5), cache = tmp.resolve("cache");
        load(dir, cache);
        Path side = files(cache).getFirst();
        Object inode = Files.readAttributes(side, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        notes.clear();
        GPT again = load(dir, cache);
        assertEquals(List.of(), notes);
        assertEquals(inode, Files.readAttributes(side, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
        assertFalse(again.param(C_ATTN).packed().getFirst().isTransposed());
    }

    /** A model saved again over the same path (new weights, or the same size and an old time) gets a new side file. */
    @Test
    void aChangedSourceIsNeverReadThroughTheOldFile() throws IOException {
        Path dir = model(5), cache = tmp.resolve("cache");
        load(dir, cache);
        Path weights = dir.resolve(ModelDir.WEIGHTS);
        FileTime old = Files.getLastModifiedTime(weights);
        model(6);   // same shapes, same size, other weights
        Files.setLastModifiedTime(weights, old);   // and even the same time: the inode differs (written and renamed)
        notes.clear();
        GPT reloaded = load(dir, cache);
        assertEquals(1, notes.size(), "written again: " + notes);
        assertArrayEquals(ModelDir.load(dir).param(C_PROJ).data, reloaded.param(C_PROJ).packed().getFirst().dequantize());
        assertEquals(1, files(cache).size(), "the model's side file replaced, not one more: " + files(cache));

        try (var ch = Files.newByteChannel(weights, StandardOpenOption.WRITE)) {   // changed in place: a new time
            ch.position(ch.size() - 1).write(java.nio.ByteBuffer.wrap(new byte[] {1}));
        }
        Files.setLastModifiedTime(weights, FileTime.fromMillis(old.toMillis() + 5000));
        notes.clear();
        load(dir, cache);
        assertEquals(1, notes.size(), "written again after an edit in place: " + notes);
    }

    @Test
    void aTruncatedOrDamagedFileIsWrittenAgain() throws IOException {
        Path dir = model(5), cache = tmp.resolve("cache");
        load(dir, cache);
        Path side = files(cache).getFirst();
        float[] want = ModelDir.load(dir).param(C_ATTN).data;
        try (var ch = Files.newByteChannel(side, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 4);
        }
        notes.clear();
        assertArrayEquals(want, load(dir, cache).param(C_ATTN).packed().getFirst().dequantize());
        assertEquals(1, notes.size(), "truncated: written again: " + notes);

        byte[] bytes = Files.readAllBytes(side);
        Arrays.fill(bytes, 0, 64, (byte) 'x');   // the header's length and start
        Files.write(side, bytes);
        notes.clear();
        assertArrayEquals(want, load(dir, cache).param(C_ATTN).packed().getFirst().dequantize());
        assertEquals(1, notes.size(), "damaged header: written again: " + notes);
        assertEquals(1, files(cache).size(), files(cache).toString());
    }

    /** A killed writer's temporary file is deleted by the next write once it is old; a running writer's (new) is not. */
    @Test
    void aKilledWritersTemporaryFileIsDeletedWhenOld() throws IOException {
        Path dir = model(5), cache = tmp.resolve("cache");
        load(dir, cache);
        Path side = files(cache).getFirst();
        Path old = Files.writeString(cache.resolve("." + side.getFileName() + ".abc.tmp"), "partial");
        Path recent = Files.writeString(cache.resolve("." + side.getFileName() + ".def.tmp"), "partial");
        Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 2 * RowMajorCache.LEFTOVER_AGE.toMillis()));
        Files.delete(side);
        load(dir, cache);
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(recent));
        assertEquals(2, files(cache).size(), files(cache).toString());
    }

    /**
     * Writing a side file deletes the one of a model deleted since, and keeps the one of a model still there (its path
     * holding spaces), another version's, an unreadable one and files not named as side files.
     */
    @Test
    void aSideFileOfADeletedModelIsRemovedWhenAnotherIsWritten() throws IOException {
        Path cache = tmp.resolve("cache");
        Path kept = Files.move(model(5), tmp.resolve("kept model x"));
        load(kept, cache);
        Path keptSide = files(cache).getFirst();
        Path gone = Files.move(model(6), tmp.resolve("gone"));
        load(gone, cache);
        assertTrue(notes.stream().noneMatch(n -> n.startsWith("removed")), "both models are there: " + notes);
        Path goneSide = files(cache).stream().filter(p -> !p.equals(keptSide)).findFirst().orElseThrow();
        try (SafeTensors.Reader r = SafeTensors.Reader.open(keptSide)) {
            assertEquals(List.of(kept.resolve(ModelDir.WEIGHTS).toRealPath()),
                    RowMajorCache.sourcePaths(r.metadata().get(RowMajorCache.KEY)), "its path has spaces");
        }
        Path garbage = Files.write(cache.resolve("rowmajor-x.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Path unrelated = Files.copy(goneSide, cache.resolve("copy-of-side.safetensors"));
        byte[] bytes = Files.readAllBytes(goneSide);   // another version: the same length, so still a valid header
        String header = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int v = header.indexOf("jgpt row-major side file 1");
        assertTrue(v > 0, header);
        bytes[v + "jgpt row-major side file ".length()] = '0';
        Path otherVersion = Files.write(cache.resolve("rowmajor-old.safetensors"), bytes);
        Path goneWeights = gone.resolve(ModelDir.WEIGHTS).toRealPath();
        try (Stream<Path> s = Files.list(gone)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(gone);

        notes.clear();
        load(model(7), cache);
        assertEquals(2, notes.size(), notes.toString());
        assertTrue(notes.getFirst().startsWith("removed 1 side file of models no longer there (")
                && notes.getFirst().contains(" MB): " + goneSide + " (of " + goneWeights + ")")
                && !notes.getFirst().contains(keptSide.toString()), notes.getFirst());
        assertFalse(Files.exists(goneSide));
        for (Path p : List.of(keptSide, garbage, unrelated, otherVersion)) {
            assertTrue(Files.exists(p), p.toString());
        }
        assertEquals(5, files(cache).size(), "those four and the new side file: " + files(cache));
        notes.clear();
        load(kept, cache);
        assertEquals(List.of(), notes, "the kept model's side file is still valid");
    }

    /** A cache directory that cannot be made (here a file is in its way) is one line, and the weights used as stored. */
    @Test
    void anUnusableCacheDirectoryFallsBackToTheWeightsAsStored() throws IOException {
        Path dir = model(5), blocked = Files.writeString(tmp.resolve("not-a-directory"), "x");
        GPT m = load(dir, blocked.resolve("cache"));
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.getFirst().contains("no row-major side file") && notes.getFirst().contains(blocked.toString()),
                notes.getFirst());
        assertTrue(m.param(C_ATTN).packed().getFirst().isTransposed());
        MappedLoadTest.assertSameComputation(ModelDir.load(dir), m);
    }

    /** A model with no transposed matrices (Llama's) needs no side file: nothing is written. */
    @Test
    void noSideFileWithoutTransposedMatrices() throws IOException {
        Path dir = tmp.resolve("llama"), cache = tmp.resolve("cache");
        ModelDir.save(new GPT(LlamaModelDirTest.LLAMA.toBuilder().blockSize(32).build(), 6), dir);
        load(dir, cache);
        assertEquals(List.of(), notes);
        assertFalse(Files.exists(cache));
    }

    /** The staged writes (whole buffers at a time) put every byte where it belongs, across buffer boundaries. */
    @Test
    void stagedWritesKeepEveryByteInOrder() throws IOException {
        Path f = tmp.resolve("staged.bin");
        byte[] expected = new byte[1000];
        new java.util.Random(3).nextBytes(expected);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            RowMajorCache.StagedWriter out = new RowMajorCache.StagedWriter(ch, arena.allocate(64));
            int at = 0;
            for (int n : new int[] {0, 1, 63, 64, 200, 7, 64, 601}) {   // within, to the end of, and across buffers
                out.put(java.lang.foreign.MemorySegment.ofArray(Arrays.copyOfRange(expected, at, at + n)));
                at += n;
            }
            assertEquals(expected.length, at);
            out.flush();
        }
        assertArrayEquals(expected, Files.readAllBytes(f));
    }
}
