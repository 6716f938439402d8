package dev.jgpt.train;

import dev.jgpt.common.AtomicFiles;
import dev.jgpt.common.IoErrors;
import dev.jgpt.model.io.ModelDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The {@code --out} directory of a run, guarded: a new run goes only into a new or empty folder or one
 * that holds a jgpt run (never over a user's own files), and an old run it replaces is set aside, not
 * deleted, until the new run has written its first checkpoint.
 *
 * <p>Replacing an old run moves its files into {@code .previous-run.partial/}, which is then renamed
 * {@code .previous-run/}. The first checkpoint of the new run deletes that folder ({@link #settle} at
 * the end of {@link Checkpoint#save}); a new run that ends without one puts the old files back
 * ({@link #release}: the new run's files go, the folder is renamed {@code .previous-run.restoring/}
 * and emptied back into place). Each step is a rename, and {@link #settle} finishes whichever was
 * under way when a process was killed, so the old run survives a kill -9 at any moment.
 */
public final class RunDirectory {
    static final String ASIDE_PARTIAL = ".previous-run.partial", ASIDE = ".previous-run",
            RESTORING = ".previous-run.restoring";
    /** What a run writes at the top of its directory ({@code diagnostics.jsonl} comes from jgpt train --diagnostics). */
    static final List<String> RUN_FILES = List.of(ModelDir.CONFIG, ModelDir.WEIGHTS, ModelDir.TOKENIZER,
            Checkpoint.STATE_DIR, MetricsLog.FILE_NAME, LossPlot.FILE_NAME, Trainer.SAMPLES_FILE, "diagnostics.jsonl",
            Checkpoint.STAGING, Checkpoint.READY, Checkpoint.OLD_STATE);
    /** What a run that was killed before its first checkpoint can leave behind: nothing worth keeping. */
    private static final List<String> LEFTOVERS = List.of(MetricsLog.FILE_NAME, "diagnostics.jsonl",
            Checkpoint.STAGING, Checkpoint.OLD_STATE);

    private static final String WRITE_TEST = ".jgpt-write-test";

    private final Path dir;
    private final boolean created;

    private RunDirectory(Path dir, boolean created) {
        this.dir = dir;
        this.created = created;
    }

    /**
     * Refuses, with one clear message and before anything is built or changed, an {@code out} that a new
     * run may not use: a file; a folder holding other things than a jgpt run; a run, unless
     * {@code replace}; a folder that cannot be written.
     */
    public static void check(Path out, boolean replace) throws IOException {
        if (!Files.exists(out)) {
            return; // created by claim(), which names the reason if it cannot be
        }
        if (!Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        }
        settle(out);
        if (Checkpoint.exists(out)) {
            if (!replace) {
                throw new IllegalArgumentException("--out " + out + " already holds a training run; pass --resume to "
                        + "continue it, --overwrite to start over there, or another --out");
            }
        } else {
            List<String> foreign = foreignEntries(out);
            if (!foreign.isEmpty()) {
                throw new IllegalArgumentException("--out " + out + " is not empty and holds no jgpt run (it has "
                        + summary(foreign) + "); name a new or empty folder, so that nothing of yours is overwritten");
            }
        }
        checkWritable(out);
    }

    /**
     * Takes {@code out} for a new run: creates it, or sets an old run there aside (with {@code replace}).
     * Call after {@link #check} and after everything that can fail before training has been built.
     */
    public static RunDirectory claim(Path out, boolean replace) throws IOException {
        check(out, replace);
        boolean created = IoErrors.createFolder("--out", out);
        if (created) {
            checkWritable(out);
        }
        if (Checkpoint.exists(out)) {
            Checkpoint.recover(out);
            Path partial = Files.createDirectories(out.resolve(ASIDE_PARTIAL));
            for (String name : RUN_FILES) {
                if (Files.exists(out.resolve(name))) {
                    AtomicFiles.move(out.resolve(name), partial.resolve(name));
                }
            }
            AtomicFiles.move(partial, out.resolve(ASIDE));
            AtomicFiles.syncDirectory(out);
        } else {
            for (String name : LEFTOVERS) {
                AtomicFiles.deleteTree(out.resolve(name));
            }
        }
        return new RunDirectory(out, created);
    }

    /**
     * After the run (or its failed start): if it wrote no checkpoint, its files go and whatever was there
     * before comes back (the old run, or no folder at all); otherwise nothing changes. Never throws: it runs
     * while another error may be on its way to the user.
     */
    public void release() {
        try {
            if (Checkpoint.exists(dir)) {
                settle(dir);
                return;
            }
            if (Files.isDirectory(dir.resolve(ASIDE))) {
                restore(dir);
            } else {
                for (String name : RUN_FILES) {
                    AtomicFiles.deleteTree(dir.resolve(name));
                }
                deleteTempFiles(dir);
            }
            if (created) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isEmpty()) {
                        Files.delete(dir);
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("jgpt: warning: could not tidy up " + dir + ": " + IoErrors.describe(e));
        }
    }

    /**
     * Finishes what a killed process left under way in {@code dir} (see the class comment): a move of an
     * old run aside is undone, a restore is completed, and an old run set aside is deleted if the new run
     * has a checkpoint, else restored. Does nothing in any other folder.
     */
    public static void settle(Path dir) throws IOException {
        if (Files.isDirectory(dir.resolve(ASIDE_PARTIAL))) {
            moveBack(dir.resolve(ASIDE_PARTIAL), dir);
        }
        if (Files.isDirectory(dir.resolve(RESTORING))) {
            moveBack(dir.resolve(RESTORING), dir);
        }
        if (Files.isDirectory(dir.resolve(ASIDE))) {
            if (Checkpoint.exists(dir)) {
                AtomicFiles.deleteTree(dir.resolve(ASIDE));
            } else {
                restore(dir);
            }
        }
    }

    /** The new run left no checkpoint: its files go, the old ones come back. */
    private static void restore(Path dir) throws IOException {
        for (String name : RUN_FILES) {
            AtomicFiles.deleteTree(dir.resolve(name));
        }
        deleteTempFiles(dir);
        AtomicFiles.move(dir.resolve(ASIDE), dir.resolve(RESTORING));
        moveBack(dir.resolve(RESTORING), dir);
    }

    private static void moveBack(Path from, Path dir) throws IOException {
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                AtomicFiles.move(p, dir.resolve(p.getFileName().toString()));
            }
        }
        AtomicFiles.syncDirectory(dir);
        Files.delete(from);
    }

    /** Temp files of atomic writes cut short by a kill: ".NAME.RANDOM.tmp" for a run file NAME. */
    private static boolean isTempFile(String name) {
        return name.startsWith(".") && name.endsWith(".tmp") && (name.startsWith(WRITE_TEST)
                || RUN_FILES.stream().anyMatch(f -> name.startsWith("." + f + ".")));
    }

    private static void deleteTempFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (isTempFile(p.getFileName().toString())) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The entries of a folder without a checkpoint that a killed run cannot have left there. */
    private static List<String> foreignEntries(Path dir) throws IOException {
        List<String> foreign = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!LEFTOVERS.contains(name) && !isTempFile(name)) {
                    foreign.add(name + (Files.isDirectory(p) ? "/" : ""));
                }
            }
        }
        return foreign;
    }

    private static String summary(List<String> names) {
        int shown = Math.min(names.size(), 4);
        return String.join(", ", names.subList(0, shown)) + (names.size() > shown ? " and " + (names.size() - shown)
                + " more" : "");
    }

    /** Writes and deletes a probe file: the one test of writability that gives the system's own reason. */
    private static void checkWritable(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, WRITE_TEST, ".tmp"));
        } catch (IOException e) {
            throw new IllegalArgumentException("--out " + dir + " cannot be written: " + IoErrors.reason(e)
                    + "; name a folder you can write to", e);
        }
    }
}
