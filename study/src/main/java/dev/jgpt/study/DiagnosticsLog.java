package dev.jgpt.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.model.GPT;
import dev.jgpt.train.Trainer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code jgpt train --diagnostics}: every {@code every} steps, the study's measurements on the user's
 * own run — gradient norms per block (attention and FFN, after clipping: what AdamW received) and
 * the residual stream's RMS after each block, each block's relative update ‖x_{l+1} − x_l‖/‖x_l‖ and the cosine
 * between successive blocks' updates (the ODE view) on a fixed validation batch — appended to
 * {@code diagnostics.jsonl} in the run directory and printed as one line.
 */
public final class DiagnosticsLog implements Trainer.Listener, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int every;
    private final PrintStream console;
    private BufferedWriter out;
    private GPT model;
    private int[] probe, probeTargets;
    private int B, T, lastStep;

    public DiagnosticsLog(int every, PrintStream console) {
        if (every < 1) {
            throw new IllegalArgumentException("diagnostics interval must be >= 1, got " + every);
        }
        this.every = every;
        this.console = console;
    }

    @Override
    public void onStart(Trainer trainer, int startStep) {
        model = trainer.model();
        T = trainer.config().blockSize();
        B = Math.min(4, trainer.config().batchSize());
        lastStep = trainer.config().iters() - 1;
        var split = trainer.data().val.size() > (long) B * T ? trainer.data().val : trainer.data().train;
        int[] window = new int[B * T + 1];
        split.read(0, window, 0, window.length);
        probe = java.util.Arrays.copyOf(window, B * T);
        probeTargets = java.util.Arrays.copyOfRange(window, 1, B * T + 1);
        try {
            out = Files.newBufferedWriter(trainer.out().resolve("diagnostics.jsonl"), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void onStep(Trainer.StepStats stats, double tokensPerS) {
        if (stats.step() % every != 0 && stats.step() != lastStep) {
            return;
        }
        boolean training = model.isTraining();
        model.setTraining(false);
        model.loss(probe, probeTargets, B, T); // fills the block outputs; gradients are left as the step made them
        model.setTraining(training);
        Diagnostics.Snapshot s = Diagnostics.snapshot(model, stats.step(), stats.loss(), probe, B, T);
        ObjectNode rec = JSON.createObjectNode();
        rec.put("step", s.step());
        rec.put("loss", s.loss());
        rec.put("grad_norm", s.gradients().total());
        rec.set("block_grad_norm", JSON.valueToTree(s.gradients().block()));
        rec.set("attn_grad_norm", JSON.valueToTree(s.gradients().attention()));
        rec.set("ffn_grad_norm", JSON.valueToTree(s.gradients().ffn()));
        rec.put("last_layer_ffn_grad_norm", s.gradients().lastLayerFfn());
        double[] rms = new double[s.residualMeanSquare().length];
        for (int l = 0; l < rms.length; l++) {
            rms[l] = Math.sqrt(s.residualMeanSquare()[l]);
        }
        rec.set("residual_rms", JSON.valueToTree(rms));
        rec.set("relative_update", JSON.valueToTree(s.steps().relativeUpdate()));
        rec.set("update_cosine", JSON.valueToTree(s.steps().cosine()));
        try {
            out.write(JSON.writeValueAsString(rec));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        console.println("diagnostics: " + s.summary());
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }
}
