package dev.jgpt.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jgpt.model.GPT;
import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;
import dev.jgpt.model.io.ModelDir;
import dev.jgpt.model.optim.AdamW;
import dev.jgpt.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The run directory's checkpoint: a model directory ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}) plus {@code train_state/} ({@code state.json} and the AdamW moments in
 * {@code optimizer.safetensors}).
 *
 * <p>Crash safety. A save writes the whole checkpoint to {@code .checkpoint.new/} and fsyncs it, then
 * renames that directory to {@code .checkpoint.ready/}: that rename is the commit point. Installing
 * moves each file (and {@code train_state/}) from there into the run directory, one atomic rename
 * each. {@link #recover} runs before every load: it deletes an uncommitted {@code .checkpoint.new/}
 * and finishes installing a committed {@code .checkpoint.ready/}, so a kill -9 at any moment leaves
 * either the previous checkpoint or the new one. The model files are readable throughout (config.json
 * is the same in every checkpoint of a run, and each file is replaced whole).
 */
public final class Checkpoint {
    public static final String STATE_DIR = "train_state";
    public static final String STATE = "state.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    static final String STAGING = ".checkpoint.new", READY = ".checkpoint.ready", OLD_STATE = ".train_state.old";
    private static final List<String> MODEL_FILES = List.of(ModelDir.CONFIG, ModelDir.WEIGHTS, ModelDir.TOKENIZER);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A loaded checkpoint: the model, the train state, and the file holding the optimiser's state. */
    public record Loaded(GPT model, TrainState state, Path optimizerState) {
        /** The checkpoint's {@code train_state/} folder. */
        public Path stateDir() {
            return optimizerState.getParent();
        }
    }

    /** Writes the optimisation state into a checkpoint's {@code train_state/} folder being staged. */
    @FunctionalInterface
    public interface StateWriter {
        void write(Path stateDir) throws IOException;
    }

    /** For tests: the phase after which {@link #save} stops, simulating a kill (0 = never). */
    static int crashAfterPhase = 0;

    private Checkpoint() {
    }

    /** True if {@code dir} holds a checkpoint (or a committed one waiting to be installed). */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(STATE_DIR).resolve(STATE))
                || Files.isDirectory(dir.resolve(READY));
    }

    /**
     * Saves a checkpoint into {@code dir} crash-safely (see the class comment). If it cannot be written (a
     * full disk, ...), nothing of it is left behind and the error names the file and the checkpoint kept.
     */
    public static void save(Path dir, GPT model, Tokenizer tokenizer, TrainState state, AdamW optimizer)
            throws IOException {
        save(dir, model, tokenizer, state, stateDir -> optimizer.save(stateDir.resolve(OPTIMIZER)));
    }

    /** As above, the optimisation state written by {@code optimizerState} (an engine's own files). */
    public static void save(Path dir, GPT model, Tokenizer tokenizer, TrainState state, StateWriter optimizerState)
            throws IOException {
        Files.createDirectories(dir);
        recover(dir);
        Path staging = dir.resolve(STAGING);
        try {
            stage(staging, model, tokenizer, state, optimizerState);
        } catch (IOException e) {
            AtomicFiles.deleteTreeQuietly(staging);
            int kept = keptStep(dir);
            throw new IOException("cannot write the checkpoint of step " + state.step() + " to " + dir + ": "
                    + IoErrors.describe(e) + (kept < 0 ? "; there is no earlier checkpoint"
                    : "; the checkpoint of step " + kept + " is kept (jgpt train --resume --out " + dir
                    + " continues from it)"), e);
        }
        if (crashAfterPhase == 1) {
            return;
        }
        AtomicFiles.move(staging, dir.resolve(READY)); // the commit point
        AtomicFiles.syncDirectory(dir);
        if (crashAfterPhase == 2) {
            return;
        }
        install(dir);
        RunDirectory.settle(dir); // a run this one replaces goes once this one has a checkpoint
    }

    /** The step of the checkpoint in {@code dir}, or −1 if there is none or it cannot be read. */
    private static int keptStep(Path dir) {
        try {
            return readState(dir).map(TrainState::step).orElse(-1);
        } catch (IOException | RuntimeException unreadable) {
            return -1;
        }
    }

    /** The train state of the checkpoint in {@code dir} without loading the model; empty if there is none. */
    public static Optional<TrainState> readState(Path dir) throws IOException {
        Path stateFile = dir.resolve(STATE_DIR).resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            return Optional.empty();
        }
        try {
            return Optional.of(TrainState.fromJson(JSON.readTree(Files.readString(stateFile))));
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(stateFile + ": unreadable train state: " + e.getMessage(), e);
        }
    }

    /** Writes the whole checkpoint into {@code staging} and fsyncs it. */
    private static void stage(Path staging, GPT model, Tokenizer tokenizer, TrainState state, StateWriter optimizerState)
            throws IOException {
        AtomicFiles.deleteTree(staging);
        Files.createDirectories(staging.resolve(STATE_DIR));
        ModelDir.save(model, staging);
        byte[] tokenizerJson = tokenizerBytes(tokenizer, staging);
        AtomicFiles.write(staging.resolve(ModelDir.TOKENIZER), out -> out.write(tokenizerJson));
        Path stateDir = staging.resolve(STATE_DIR);
        optimizerState.write(stateDir);
        AtomicFiles.writeString(stateDir.resolve(STATE), JSON.writeValueAsString(state.toJson()));
        AtomicFiles.syncDirectory(stateDir);
        AtomicFiles.syncDirectory(staging);
    }

    /** The tokenizer's own tokenizer.json bytes (its save writes through a temp file we then read). */
    private static byte[] tokenizerBytes(Tokenizer tokenizer, Path scratchDir) throws IOException {
        Path tmp = scratchDir.resolve(".tokenizer.json.tmp");
        tokenizer.save(tmp);
        byte[] bytes = Files.readAllBytes(tmp);
        Files.delete(tmp);
        return bytes;
    }

    /**
     * Brings {@code dir} to its last committed checkpoint: drops an unfinished save, finishes
     * installing a committed one. Idempotent; safe to call on any directory.
     */
    public static void recover(Path dir) throws IOException {
        AtomicFiles.deleteTree(dir.resolve(STAGING));
        install(dir);
    }

    private static void install(Path dir) throws IOException {
        Path ready = dir.resolve(READY);
        if (!Files.isDirectory(ready)) {
            return;
        }
        for (String name : MODEL_FILES) {
            if (Files.exists(ready.resolve(name))) {
                AtomicFiles.move(ready.resolve(name), dir.resolve(name));
            }
            if (crashAfterPhase == 3) {
                return; // a kill between two file moves
            }
        }
        Path old = dir.resolve(OLD_STATE);
        if (Files.isDirectory(ready.resolve(STATE_DIR))) {
            AtomicFiles.deleteTree(old);
            if (Files.exists(dir.resolve(STATE_DIR))) {
                AtomicFiles.move(dir.resolve(STATE_DIR), old);
            }
            if (crashAfterPhase == 4) {
                return; // a kill with the old state moved away and the new one not yet in place
            }
            AtomicFiles.move(ready.resolve(STATE_DIR), dir.resolve(STATE_DIR));
        }
        AtomicFiles.syncDirectory(dir);
        AtomicFiles.deleteTree(old);
        AtomicFiles.deleteTree(ready);
    }

    /** Loads the checkpoint in {@code dir} (after {@link #recover}); each problem is one clear error. */
    public static Loaded load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a folder: it holds no training checkpoint to resume");
        }
        RunDirectory.settle(dir);
        recover(dir);
        TrainState state = readState(dir).orElseThrow(() -> new IllegalArgumentException(
                dir.resolve(STATE_DIR).resolve(STATE) + " is missing: " + dir + " holds no training checkpoint to resume"));
        GPT model = ModelDir.load(dir);
        return new Loaded(model, state, dir.resolve(STATE_DIR).resolve(OPTIMIZER));
    }



}
