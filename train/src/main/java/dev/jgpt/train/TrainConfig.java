package dev.jgpt.train;

import dev.jgpt.model.optim.LrSchedule;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.model.Family;
import dev.jgpt.model.FeedForwardKind;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Norm;
import dev.jgpt.model.Position;
import dev.jgpt.model.ResidualLayout;

import java.util.Locale;

/**
 * Every knob of a training run (nanoGPT's names where they exist). Build one from a preset with
 * {@link #preset(String)} and change fields through {@link #toBuilder()}.
 *
 * @param data          a text file, a prepared directory (train.bin, val.bin, tokenizer.json), or
 *                      {@code null} for tiny Shakespeare
 * @param tokenizer     {@code char}, a tokenizer.json (or a directory holding one), or {@code null}:
 *                      char-level for a text file, the prepared directory's own tokenizer otherwise
 * @param lrDecayIters  the step where the cosine reaches {@code minLr}; 0 means {@code iters}
 * @param gradClip      clip the global gradient norm to this; 0 turns clipping off
 * @param layerDrop     LayerDrop: each block is skipped with this probability at each training step
 *                      ({@link LayerDrop}); 0 turns it off
 * @param evalInterval  evaluate (and checkpoint) every this many steps, and at the end
 * @param threads       kernel threads; 0 means all cores (on Spark: per task; 0 means spark.task.cpus)
 * @param nKvHead       key/value heads (grouped-query attention); 0 means as many as heads
 * @param intermediateSize the feed-forward width; 0 means 4·embd for GELU and ⅔ of that (rounded up to a
 *                      multiple of 32) for SwiGLU, which keeps the parameter count (Llama's rule)
 * @param initFrom      a model directory (jgpt's or a Hugging Face checkpoint) whose weights and shape
 *                      the run starts from, or {@code null} for a new model of the shape above (whose
 *                      fields are then unused: the model's own config.json gives its shape)
 * @param workers       data-parallel workers, each computing {@code gradAccum} micro-batches of every step (more
 *                      than one needs the spark module's engine); micro-batch {@code a} of worker {@code w} is
 *                      the run's micro-batch {@code w·gradAccum + a}, so N workers equal one with N·gradAccum
 * @param sync          how the workers combine: {@code STEP} averages their gradients every step; {@code DILOCO}
 *                      lets each take {@code syncEvery} AdamW steps alone, then averages their weight deltas
 *                      into an outer Nesterov step of {@code outerLr} and {@code outerMomentum}
 */
public record TrainConfig(String data, String tokenizer,
                          int nLayer, int nHead, int nEmbd, int blockSize, int batchSize,
                          int iters, double lr, double minLr, int warmup, int lrDecayIters,
                          double weightDecay, double beta1, double beta2, double eps, double gradClip,
                          int gradAccum, float dropout, double layerDrop, boolean bias,
                          int evalInterval, int evalIters, long seed, int threads,
                          ResidualLayout layout, InitScheme init,
                          int samples, int sampleTokens, double temperature,
                          Norm norm, Position position, FeedForwardKind mlp, int nKvHead, int intermediateSize,
                          double ropeTheta, String initFrom,
                          int workers, Sync sync, int syncEvery, double outerLr, double outerMomentum) {

    /** How data-parallel workers combine their work. */
    public enum Sync {
        /** Synchronous: every step's gradient is the mean over all workers' micro-batches. */
        STEP,
        /** DiLoCo (Douillard et al. 2023): {@code syncEvery} local AdamW steps, then an outer step on the mean delta. */
        DILOCO;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Sync parse(String s) {
            for (Sync v : values()) {
                if (v.id().equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown sync mode '" + s + "'; expected step or diloco");
        }
    }

    /** The preset names {@link #preset} accepts. */
    public static final String BABY = "baby", BABY_LLAMA = "baby-llama", SHAKESPEARE_CHAR = "shakespeare-char";

    public TrainConfig {
        require(nLayer > 0, "layers must be positive, got " + nLayer);
        require(nHead > 0, "heads must be positive, got " + nHead);
        require(nEmbd > 0 && nEmbd % nHead == 0, "embd (" + nEmbd + ") must be a positive multiple of heads (" + nHead + ")");
        require(blockSize > 0, "block must be positive, got " + blockSize);
        require(batchSize > 0, "batch must be positive, got " + batchSize);
        require(iters >= 0, "iters must be >= 0, got " + iters);
        require(lr > 0 && Double.isFinite(lr), "lr must be positive, got " + lr);
        require(minLr >= 0 && minLr <= lr, "min-lr must be in [0, lr=" + lr + "], got " + minLr);
        require(warmup >= 0, "warmup must be >= 0, got " + warmup);
        require(lrDecayIters >= 0, "lr-decay-iters must be >= 0, got " + lrDecayIters);
        require(weightDecay >= 0, "weight-decay must be >= 0, got " + weightDecay);
        require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
        require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        require(eps > 0, "eps must be positive, got " + eps);
        require(gradClip >= 0, "grad-clip must be >= 0 (0 = off), got " + gradClip);
        require(gradAccum > 0, "grad-accum must be positive, got " + gradAccum);
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        require(layerDrop >= 0 && layerDrop < 1, "layer-drop must be in [0, 1), got " + layerDrop);
        require(evalInterval > 0, "eval-interval must be positive, got " + evalInterval);
        require(evalIters > 0, "eval-iters must be positive, got " + evalIters);
        require(threads >= 0, "threads must be >= 0 (0 = all cores), got " + threads);
        require(layout != null, "residual-layout is missing");
        require(init != null, "init is missing");
        require(samples >= 0, "samples must be >= 0, got " + samples);
        require(sampleTokens >= 0, "sample-tokens must be >= 0, got " + sampleTokens);
        require(temperature > 0, "temperature must be positive, got " + temperature);
        require(norm != null && position != null && mlp != null, "norm, position and mlp must be set");
        require(nKvHead >= 0 && (nKvHead == 0 || nHead % nKvHead == 0),
                "kv-heads (" + nKvHead + ") must divide heads (" + nHead + "); 0 = as many as heads");
        require(intermediateSize >= 0, "mlp-hidden must be >= 0 (0 = the default width), got " + intermediateSize);
        require(ropeTheta > 0, "rope-theta must be positive, got " + ropeTheta);
        require(workers > 0, "workers must be positive, got " + workers);
        require(sync != null, "sync is missing");
        require(syncEvery > 0, "sync-every must be positive, got " + syncEvery);
        require(outerLr > 0 && Double.isFinite(outerLr), "outer-lr must be positive, got " + outerLr);
        require(outerMomentum >= 0 && outerMomentum < 1, "outer-momentum must be in [0, 1), got " + outerMomentum);
        if (sync == Sync.DILOCO) {
            // Rounds start at multiples of sync-every, so a resumed or extended run meets the same rounds.
            require(evalInterval % syncEvery == 0, "with --sync diloco, eval-interval (" + evalInterval
                    + ") must be a multiple of sync-every (" + syncEvery + "): evaluations fall between rounds");
            require(iters % syncEvery == 0, "with --sync diloco, iters (" + iters
                    + ") must be a multiple of sync-every (" + syncEvery + ")");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("train config: " + message);
        }
    }

    /**
     * {@code baby}: nanoGPT's CPU run (L4 H4 d128 T64 B12, 2000 iters, lr 1e-3 → 1e-4 cosine, warmup 100,
     * β2 0.99, wd 0.1, clip 1.0, dropout 0, eval every 250 over 20 batches). {@code shakespeare-char}:
     * nanoGPT's config/train_shakespeare_char.py (L6 H6 d384 T256 B64, 5000 iters, dropout 0.2, eval
     * every 250 over 200 batches). {@code baby-llama}: the baby's size and recipe with Llama's block
     * (RMSNorm, RoPE, SwiGLU, no biases).
     */
    public static TrainConfig preset(String name) {
        Builder b = new Builder();
        switch (name.toLowerCase(Locale.ROOT)) {
            case BABY -> b.nLayer(4).nHead(4).nEmbd(128).blockSize(64).batchSize(12)
                    .iters(2000).dropout(0f).evalIters(20);
            case BABY_LLAMA -> b.nLayer(4).nHead(4).nEmbd(128).blockSize(64).batchSize(12)
                    .iters(2000).dropout(0f).evalIters(20).bias(false)
                    .norm(Norm.RMSNORM).position(Position.ROPE).mlp(FeedForwardKind.SWIGLU);
            case SHAKESPEARE_CHAR -> b.nLayer(6).nHead(6).nEmbd(384).blockSize(256).batchSize(64)
                    .iters(5000).dropout(0.2f).evalIters(200);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "'; expected "
                    + BABY + ", " + BABY_LLAMA + " or " + SHAKESPEARE_CHAR);
        }
        return b.build();
    }

    /**
     * The model this run trains, for a tokenizer of {@code vocabSize} tokens. With Llama's block (RMSNorm,
     * RoPE and SwiGLU) it is saved in Llama's checkpoint layout, otherwise in GPT-2's.
     */
    public GPTConfig modelConfig(int vocabSize) {
        boolean llama = norm == Norm.RMSNORM && position == Position.ROPE && mlp == FeedForwardKind.SWIGLU;
        int hidden = intermediateSize > 0 ? intermediateSize
                : mlp == FeedForwardKind.SWIGLU ? (8 * nEmbd / 3 + 31) / 32 * 32 : 4 * nEmbd;
        return GPTConfig.of(vocabSize, blockSize, nLayer, nHead, nEmbd).toBuilder()
                .bias(bias).qkvBias(bias).dropout(dropout).layout(layout).init(init)
                .norm(norm).position(position).ropeTheta(ropeTheta).mlp(mlp).intermediateSize(hidden)
                .nKvHead(nKvHead > 0 ? nKvHead : nHead).family(llama ? Family.LLAMA : Family.GPT2).build();
    }

    /** Where the cosine schedule ends: {@code lrDecayIters}, or {@code iters} when that is 0. */
    public int decayIters() {
        return lrDecayIters > 0 ? lrDecayIters : iters;
    }

    /** Tokens that one optimizer step consumes over all workers: batch × block × grad-accum × workers. */
    public long tokensPerStep() {
        return (long) batchSize * blockSize * gradAccum * workers;
    }

    public LrSchedule schedule() {
        return new LrSchedule(lr, minLr, warmup, decayIters());
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The config as JSON (snake_case keys, nanoGPT's names where they exist). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (data != null) {
            o.put("data", data);
        } else {
            o.putNull("data");
        }
        if (tokenizer != null) {
            o.put("tokenizer", tokenizer);
        } else {
            o.putNull("tokenizer");
        }
        o.put("n_layer", nLayer).put("n_head", nHead).put("n_embd", nEmbd)
                .put("block_size", blockSize).put("batch_size", batchSize)
                .put("max_iters", iters).put("learning_rate", lr).put("min_lr", minLr)
                .put("warmup_iters", warmup).put("lr_decay_iters", lrDecayIters)
                .put("weight_decay", weightDecay).put("beta1", beta1).put("beta2", beta2).put("eps", eps)
                .put("grad_clip", gradClip).put("gradient_accumulation_steps", gradAccum)
                .put("dropout", dropout).put("layer_drop", layerDrop).put("bias", bias)
                .put("eval_interval", evalInterval).put("eval_iters", evalIters)
                .put("seed", seed).put("threads", threads)
                .put("residual_layout", layout.id()).put("init", init.id())
                .put("samples", samples).put("sample_tokens", sampleTokens).put("temperature", temperature)
                .put("norm", norm.id()).put("position", position.id()).put("mlp", mlp.id())
                .put("n_kv_head", nKvHead).put("intermediate_size", intermediateSize).put("rope_theta", ropeTheta)
                .put("workers", workers).put("sync", sync.id()).put("sync_every", syncEvery)
                .put("outer_lr", outerLr).put("outer_momentum", outerMomentum);
        if (initFrom != null) {
            o.put("init_from", initFrom);
        } else {
            o.putNull("init_from");
        }
        return o;
    }

    /** Reads {@link #toJson()}'s output; a missing key is an error naming it. */
    public static TrainConfig fromJson(JsonNode o) {
        Builder b = new Builder();
        b.data(o.path("data").isTextual() ? o.get("data").asText() : null);
        b.tokenizer(o.path("tokenizer").isTextual() ? o.get("tokenizer").asText() : null);
        b.nLayer(need(o, "n_layer").asInt()).nHead(need(o, "n_head").asInt()).nEmbd(need(o, "n_embd").asInt())
                .blockSize(need(o, "block_size").asInt()).batchSize(need(o, "batch_size").asInt())
                .iters(need(o, "max_iters").asInt()).lr(need(o, "learning_rate").asDouble())
                .minLr(need(o, "min_lr").asDouble()).warmup(need(o, "warmup_iters").asInt())
                .lrDecayIters(need(o, "lr_decay_iters").asInt()).weightDecay(need(o, "weight_decay").asDouble())
                .beta1(need(o, "beta1").asDouble()).beta2(need(o, "beta2").asDouble()).eps(need(o, "eps").asDouble())
                .gradClip(need(o, "grad_clip").asDouble()).gradAccum(need(o, "gradient_accumulation_steps").asInt())
                .dropout((float) need(o, "dropout").asDouble())
                .layerDrop(o.path("layer_drop").asDouble(0)) // absent in runs saved before LayerDrop existed: off
                .bias(need(o, "bias").asBoolean())
                .evalInterval(need(o, "eval_interval").asInt()).evalIters(need(o, "eval_iters").asInt())
                .seed(need(o, "seed").asLong()).threads(need(o, "threads").asInt())
                .layout(ResidualLayout.parse(need(o, "residual_layout").asText()))
                .init(InitScheme.parse(need(o, "init").asText()))
                .samples(need(o, "samples").asInt()).sampleTokens(need(o, "sample_tokens").asInt())
                .temperature(need(o, "temperature").asDouble());
        // Runs saved before the block switches existed have GPT-2's block.
        b.norm(Norm.parse(o.path("norm").asText(Norm.LAYERNORM.id())))
                .position(Position.parse(o.path("position").asText(Position.LEARNED.id())))
                .mlp(FeedForwardKind.parse(o.path("mlp").asText(FeedForwardKind.GELU.id())))
                .nKvHead(o.path("n_kv_head").asInt(0)).intermediateSize(o.path("intermediate_size").asInt(0))
                .ropeTheta(o.path("rope_theta").asDouble(10000.0));
        b.initFrom(o.path("init_from").isTextual() ? o.get("init_from").asText() : null);
        // Runs saved before data-parallel training have no such keys: one process, the defaults.
        b.workers(o.path("workers").asInt(b.workers)).sync(Sync.parse(o.path("sync").asText(b.sync.id())))
                .syncEvery(o.path("sync_every").asInt(b.syncEvery)).outerLr(o.path("outer_lr").asDouble(b.outerLr))
                .outerMomentum(o.path("outer_momentum").asDouble(b.outerMomentum));
        return b.build();
    }

    private static JsonNode need(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("train config JSON: missing \"" + key + "\"");
        }
        return v;
    }

    /** Mutable builder; its defaults are the baby preset's optimizer settings (nanoGPT's shakespeare-char ones). */
    public static final class Builder {
        private String data, tokenizer;
        private int nLayer = 4, nHead = 4, nEmbd = 128, blockSize = 64, batchSize = 12;
        private int iters = 2000, warmup = 100, lrDecayIters = 0;
        private double lr = 1e-3, minLr = 1e-4, weightDecay = 0.1, beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
        private double gradClip = 1.0;
        private int gradAccum = 1;
        private float dropout = 0f;
        private double layerDrop = 0;
        private boolean bias = true;
        private int evalInterval = 250, evalIters = 20;
        private long seed = 1337;
        private int threads = 0;
        private ResidualLayout layout = ResidualLayout.PRE_LN;
        private InitScheme init = InitScheme.GPT2;
        private int samples = 2, sampleTokens = 300;
        private double temperature = 0.8;
        private Norm norm = Norm.LAYERNORM;
        private Position position = Position.LEARNED;
        private FeedForwardKind mlp = FeedForwardKind.GELU;
        private int nKvHead = 0, intermediateSize = 0;
        private double ropeTheta = 10000.0;
        private String initFrom;
        private int workers = 1;
        private Sync sync = Sync.STEP;
        private int syncEvery = 50;
        private double outerLr = 0.7, outerMomentum = 0.9;   // DiLoCo's outer Nesterov settings

        public Builder() {
        }

        Builder(TrainConfig c) {
            data = c.data;
            tokenizer = c.tokenizer;
            nLayer = c.nLayer;
            nHead = c.nHead;
            nEmbd = c.nEmbd;
            blockSize = c.blockSize;
            batchSize = c.batchSize;
            iters = c.iters;
            lr = c.lr;
            minLr = c.minLr;
            warmup = c.warmup;
            lrDecayIters = c.lrDecayIters;
            weightDecay = c.weightDecay;
            beta1 = c.beta1;
            beta2 = c.beta2;
            eps = c.eps;
            gradClip = c.gradClip;
            gradAccum = c.gradAccum;
            dropout = c.dropout;
            layerDrop = c.layerDrop;
            bias = c.bias;
            evalInterval = c.evalInterval;
            evalIters = c.evalIters;
            seed = c.seed;
            threads = c.threads;
            layout = c.layout;
            init = c.init;
            samples = c.samples;
            sampleTokens = c.sampleTokens;
            temperature = c.temperature;
            norm = c.norm;
            position = c.position;
            mlp = c.mlp;
            nKvHead = c.nKvHead;
            intermediateSize = c.intermediateSize;
            ropeTheta = c.ropeTheta;
            initFrom = c.initFrom;
            workers = c.workers;
            sync = c.sync;
            syncEvery = c.syncEvery;
            outerLr = c.outerLr;
            outerMomentum = c.outerMomentum;
        }

        public Builder data(String v) { data = v; return this; }
        public Builder tokenizer(String v) { tokenizer = v; return this; }
        public Builder nLayer(int v) { nLayer = v; return this; }
        public Builder nHead(int v) { nHead = v; return this; }
        public Builder nEmbd(int v) { nEmbd = v; return this; }
        public Builder blockSize(int v) { blockSize = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder iters(int v) { iters = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder minLr(double v) { minLr = v; return this; }
        public Builder warmup(int v) { warmup = v; return this; }
        public Builder lrDecayIters(int v) { lrDecayIters = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder beta1(double v) { beta1 = v; return this; }
        public Builder beta2(double v) { beta2 = v; return this; }
        public Builder eps(double v) { eps = v; return this; }
        public Builder gradClip(double v) { gradClip = v; return this; }
        public Builder gradAccum(int v) { gradAccum = v; return this; }
        public Builder dropout(float v) { dropout = v; return this; }
        public Builder layerDrop(double v) { layerDrop = v; return this; }
        public Builder bias(boolean v) { bias = v; return this; }
        public Builder evalInterval(int v) { evalInterval = v; return this; }
        public Builder evalIters(int v) { evalIters = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder layout(ResidualLayout v) { layout = v; return this; }
        public Builder init(InitScheme v) { init = v; return this; }
        public Builder samples(int v) { samples = v; return this; }
        public Builder sampleTokens(int v) { sampleTokens = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder norm(Norm v) { norm = v; return this; }
        public Builder position(Position v) { position = v; return this; }
        public Builder mlp(FeedForwardKind v) { mlp = v; return this; }
        public Builder nKvHead(int v) { nKvHead = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder initFrom(String v) { initFrom = v; return this; }
        public Builder workers(int v) { workers = v; return this; }
        public Builder sync(Sync v) { sync = v; return this; }
        public Builder syncEvery(int v) { syncEvery = v; return this; }
        public Builder outerLr(double v) { outerLr = v; return this; }
        public Builder outerMomentum(double v) { outerMomentum = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(data, tokenizer, nLayer, nHead, nEmbd, blockSize, batchSize, iters, lr, minLr,
                    warmup, lrDecayIters, weightDecay, beta1, beta2, eps, gradClip, gradAccum, dropout, layerDrop, bias,
                    evalInterval, evalIters, seed, threads, layout, init, samples, sampleTokens, temperature,
                    norm, position, mlp, nKvHead, intermediateSize, ropeTheta, initFrom,
                    workers, sync, syncEvery, outerLr, outerMomentum);
        }
    }
}
