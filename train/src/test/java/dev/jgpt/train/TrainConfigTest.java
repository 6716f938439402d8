package dev.jgpt.train;

import dev.jgpt.model.GPT;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @Test
    void babyPresetIsNanoGptsCpuRun() {
        TrainConfig c = TrainConfig.preset("baby");
        assertEquals(4, c.nLayer());
        assertEquals(4, c.nHead());
        assertEquals(128, c.nEmbd());
        assertEquals(64, c.blockSize());
        assertEquals(12, c.batchSize());
        assertEquals(2000, c.iters());
        assertEquals(2000, c.decayIters());
        assertEquals(1e-3, c.lr());
        assertEquals(1e-4, c.minLr());
        assertEquals(100, c.warmup());
        assertEquals(0.99, c.beta2());
        assertEquals(0.1, c.weightDecay());
        assertEquals(1.0, c.gradClip());
        assertEquals(0f, c.dropout());
    }

    @Test
    void shakespeareCharPresetIsNanoGptsConfig() {
        TrainConfig c = TrainConfig.preset("shakespeare-char");
        assertEquals(6, c.nLayer());
        assertEquals(6, c.nHead());
        assertEquals(384, c.nEmbd());
        assertEquals(256, c.blockSize());
        assertEquals(64, c.batchSize());
        assertEquals(5000, c.iters());
        assertEquals(0.2f, c.dropout());
        assertEquals(16384, c.tokensPerStep());
        // nanoGPT (bias=False, its train.py default) prints "number of parameters: 10.65M", without
        // position embeddings; jgpt keeps bias on by default so the model directory loads in Hugging Face.
        assertTrue(c.bias());
        long n = GPT.uninitialized(c.toBuilder().bias(false).build().modelConfig(65)).parameterCount() - 256L * 384;
        assertEquals(10.65e6, n, 0.01e6);
    }

    @Test
    void jsonRoundTrip() {
        TrainConfig c = TrainConfig.preset("baby").toBuilder().data("/x/y.txt").seed(7).gradAccum(3)
                .layout(ResidualLayout.SANDWICH).init(InitScheme.XAVIER).dropout(0.1f).layerDrop(0.25).build();
        assertEquals(c, TrainConfig.fromJson(c.toJson()));
        // A run saved before LayerDrop existed has no layer_drop: it trained without it.
        var old = c.toJson();
        old.remove("layer_drop");
        assertEquals(c.toBuilder().layerDrop(0).build(), TrainConfig.fromJson(old));
    }

    @Test
    void badKnobsNameThemselves() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.preset("baby").toBuilder().nEmbd(130).build());
        assertTrue(e.getMessage().contains("embd (130)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.preset("tiny"));
        assertTrue(e.getMessage().contains("unknown preset 'tiny'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.preset("baby").toBuilder().minLr(1).build());
        assertTrue(e.getMessage().contains("min-lr"), e.getMessage());
        for (double p : new double[] {-0.1, 1, Double.NaN}) {
            e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.preset("baby").toBuilder().layerDrop(p).build());
            assertTrue(e.getMessage().contains("layer-drop must be in [0, 1)"), e.getMessage());
        }
    }
}
