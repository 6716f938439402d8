package dev.jgpt.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.Param;
import dev.jgpt.model.ResidualLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelDirTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path fixture() throws URISyntaxException {
        return Path.of(ModelDirTest.class.getResource("/gpt2-tiny/config.json").toURI()).getParent();
    }

    /**
     * The fixture is a GPT-2 checkpoint laid out as Hugging Face hub files are (no prefix, mask buffers),
     * with logits from a PyTorch reference of GPT2LMHeadModel (model/src/test/python/gpt2_reference.py).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void huggingFaceGpt2CheckpointGivesTheReferenceLogits(boolean mapped) throws Exception {
        GPT m = mapped ? ModelDir.loadMapped(fixture()) : ModelDir.load(fixture());
        assertEquals(ResidualLayout.PRE_LN, m.config.layout());
        JsonNode expected = JSON.readTree(fixture().resolve("expected.json").toFile());
        int[] tokens = JSON.convertValue(expected.get("tokens"), int[].class);
        float[] logits = m.logits(tokens, 1, tokens.length);
        int V = m.config.vocabSize();
        double maxDiff = 0;
        for (int t = 0; t < tokens.length; t++) {
            for (int v = 0; v < V; v++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected.get("logits").get(t).get(v).asDouble() - logits[t * V + v]));
            }
        }
        assertTrue(maxDiff < 1e-4, "max logit difference from the PyTorch reference: " + maxDiff);
    }

    /** A jgpt pre-LN model is written with exactly the tensors, shapes and dtype of a GPT-2 checkpoint. */
    @Test
    void preLnModelIsWrittenInGpt2Layout(@TempDir Path dir) throws Exception {
        GPTConfig cfg = ModelDir.readConfig(fixture());
        ModelDir.save(new GPT(cfg, 3), dir);
        Map<String, int[]> ours = shapes(SafeTensors.read(dir.resolve(ModelDir.WEIGHTS)));
        Map<String, int[]> hf = shapes(SafeTensors.read(fixture().resolve(ModelDir.WEIGHTS)));
        hf.keySet().removeIf(k -> k.matches("h\\.\\d+\\.attn\\.bias")); // causal-mask buffers, not weights
        Set<String> ourNames = ours.keySet().stream().map(k -> k.replaceFirst("^transformer\\.", ""))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(hf.keySet()), ourNames);
        for (String k : hf.keySet()) {
            assertArrayEquals(hf.get(k), ours.get("transformer." + k), k);
        }
        JsonNode config = JSON.readTree(dir.resolve(ModelDir.CONFIG).toFile());
        assertEquals("gpt2", config.get("model_type").asText());
        assertEquals("GPT2LMHeadModel", config.get("architectures").get(0).asText());
        assertEquals("gelu_new", config.get("activation_function").asText());
    }

    /**
     * Writes a pre-LN model and its logits to model/target/jgpt-pre-ln-model so the PyTorch reference
     * can check the other direction: python3 model/src/test/python/gpt2_reference.py check model/target/jgpt-pre-ln-model
     */
    @Test
    void exportForReferenceCheck() throws Exception {
        Path dir = Path.of("target", "jgpt-pre-ln-model");
        GPT m = new GPT(new GPTConfig(37, 12, 2, 2, 16, true, 0f, 1e-5f, ResidualLayout.PRE_LN, InitScheme.XAVIER), 8);
        ModelDir.save(m, dir);
        int[] tokens = {1, 5, 36, 2, 2, 9, 0, 17};
        float[] logits = m.logits(tokens, 1, tokens.length);
        var root = JSON.createObjectNode();
        root.set("tokens", JSON.valueToTree(tokens));
        var rows = root.putArray("logits");
        for (int t = 0; t < tokens.length; t++) {
            rows.add(JSON.valueToTree(Arrays.copyOfRange(logits, t * 37, (t + 1) * 37)));
        }
        Files.writeString(dir.resolve("jgpt-logits.json"), root.toString());
        assertEquals(m.parameterCount(), ModelDir.load(dir).parameterCount());
    }

    @ParameterizedTest
    @EnumSource(ResidualLayout.class)
    void saveThenLoadRoundTripsEveryLayout(ResidualLayout layout, @TempDir Path dir) throws IOException {
        GPTConfig cfg = new GPTConfig(23, 10, 2, 2, 8, layout != ResidualLayout.NONE, 0.1f, 1e-5f, layout, InitScheme.XAVIER);
        GPT a = new GPT(cfg, 42);
        ModelDir.save(a, dir);
        ModelDir.save(a, dir); // overwriting is atomic and leaves no temp files behind
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(Set.of(ModelDir.CONFIG, ModelDir.WEIGHTS),
                    files.map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
        }
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir.resolve(ModelDir.WEIGHTS))), "written files are readable by others");
        }
        GPT b = ModelDir.load(dir);
        assertEquals(cfg, b.config);
        for (Param p : a.parameters()) {
            assertArrayEquals(p.data, b.param(p.name).data, p.name);
        }
        int[] tokens = {1, 2, 3, 4, 22, 0};
        assertArrayEquals(Arrays.copyOf(a.logits(tokens, 1, 6), 6 * 23), Arrays.copyOf(b.logits(tokens, 1, 6), 6 * 23));
    }

    @Test
    void badFilesGiveOneClearErrorNamingTheProblem(@TempDir Path tmp) throws Exception {
        Path good = tmp.resolve("good");
        GPT m = new GPT(GPTConfig.of(11, 8, 1, 2, 8), 1);
        ModelDir.save(m, good);
        byte[] weights = Files.readAllBytes(good.resolve(ModelDir.WEIGHTS));

        assertMessage(copyWith(tmp, "truncated", Arrays.copyOf(weights, weights.length - 10)), "outside");
        assertMessage(copyWith(tmp, "tiny", new byte[] {1, 2, 3}), "too short");
        byte[] hugeHeader = weights.clone();
        ByteBuffer.wrap(hugeHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        assertMessage(copyWith(tmp, "huge", hugeHeader), "header");
        assertMessage(copyWith(tmp, "dtype", replace(weights, "\"F32\"", "\"I64\"")), "dtype I64");
        assertMessage(copyWith(tmp, "json", replace(weights, "{\"", "[\"")), "JSON");

        // Missing and mis-shaped tensors name the tensor.
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>(SafeTensors.read(good.resolve(ModelDir.WEIGHTS)));
        tensors.remove("transformer.h.0.mlp.c_fc.weight");
        Path missing = dirWithConfig(tmp, good, "missing");
        SafeTensors.write(missing.resolve(ModelDir.WEIGHTS), tensors, Map.of());
        assertMessage(missing, "missing tensor transformer.h.0.mlp.c_fc.weight");
        tensors.put("transformer.h.0.mlp.c_fc.weight", new SafeTensors.Tensor("transformer.h.0.mlp.c_fc.weight", new int[] {4, 4}, new float[16]));
        Path shaped = dirWithConfig(tmp, good, "shaped");
        SafeTensors.write(shaped.resolve(ModelDir.WEIGHTS), tensors, Map.of());
        assertMessage(shaped, "transformer.h.0.mlp.c_fc.weight has shape [4, 4]");

        Path noConfig = Files.createDirectories(tmp.resolve("noconfig"));
        assertMessage(noConfig, "config.json");
        assertMessage(tmp.resolve("does-not-exist"), "not a model directory");
        Path badConfig = dirWithConfig(tmp, good, "badconfig");
        Files.writeString(badConfig.resolve(ModelDir.CONFIG), "{\"n_layer\": 2");
        assertMessage(badConfig, "not valid JSON");
        Path badLayout = dirWithConfig(tmp, good, "badlayout");
        Files.writeString(badLayout.resolve(ModelDir.CONFIG),
                Files.readString(good.resolve(ModelDir.CONFIG)).replace("pre-ln", "pre-lm"));
        assertMessage(badLayout, "residual layout 'pre-lm'");
    }

    static void assertMessage(Path dir, String fragment) {
        IOException e = assertThrows(IOException.class, () -> ModelDir.load(dir));
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    static Path copyWith(Path tmp, String name, byte[] weights) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        Files.write(d.resolve(ModelDir.WEIGHTS), weights);
        Files.writeString(d.resolve(ModelDir.CONFIG), Files.readString(tmp.resolve("good").resolve(ModelDir.CONFIG)));
        return d;
    }

    static Path dirWithConfig(Path tmp, Path good, String name) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        Files.copy(good.resolve(ModelDir.CONFIG), d.resolve(ModelDir.CONFIG));
        return d;
    }

    static byte[] replace(byte[] file, String from, String to) {
        String s = new String(file, StandardCharsets.ISO_8859_1);
        return s.replaceFirst(java.util.regex.Pattern.quote(from), to).getBytes(StandardCharsets.ISO_8859_1);
    }

    static Map<String, int[]> shapes(Map<String, SafeTensors.Tensor> t) {
        Map<String, int[]> m = new LinkedHashMap<>();
        t.forEach((k, v) -> m.put(k, v.shape()));
        return m;
    }
}
