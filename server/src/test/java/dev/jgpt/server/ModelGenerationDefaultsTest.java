package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgpt.infer.GenerationConfig;
import dev.jgpt.infer.GenerationResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The model's generation_config.json: its defaults apply where a request sets nothing, its eos ids end answers. */
@Timeout(120)
class ModelGenerationDefaultsTest {
    private static final String PROMPT = "To be, or not";
    private static final int TOKENS = 40;

    static GenerationConfig config(List<Integer> eos, Boolean doSample) {
        return new GenerationConfig(null, eos, OptionalInt.empty(), Optional.ofNullable(doSample), Optional.empty(),
                Optional.empty(), OptionalInt.empty(), Optional.empty());
    }

    static OpenAiServer serve(GenerationConfig defaults) {
        return OpenAiServer.start(TestModels.config(), new BatchedEngine(TestModels.tiny(7), TestModels.CONTEXT),
                TestModels.CHARS, null, "no chat in this test", defaults);
    }

    static JsonNode complete(OpenAiServer server, Long seed, Double temperature) throws Exception {
        ObjectNode body = Http.JSON.createObjectNode().put("prompt", PROMPT).put("max_tokens", TOKENS);
        if (seed != null) {
            body.put("seed", seed);
        }
        if (temperature != null) {
            body.put("temperature", temperature);
        }
        Http.Response r = new Http(server.baseUrl()).post("/v1/completions", body);
        assertEquals(200, r.status(), r.body());
        return r.json().get("choices").get(0);
    }

    @Test
    void doSampleFalseMakesRequestsWithoutSamplingSettingsGreedyAndARequestsTemperatureWins() throws Exception {
        String greedy = TestModels.greedyAlone(TestModels.tiny(7), PROMPT, TOKENS, List.of()).text();
        List<String> sampledWithoutDefaults = new java.util.ArrayList<>();
        OpenAiServer plain = serve(GenerationConfig.NONE);
        try {
            for (long seed = 1; seed <= 3; seed++) {
                sampledWithoutDefaults.add(complete(plain, seed, null).get("text").asText());
            }
        } finally {
            plain.drainAndStop();
        }
        // the OpenAI default (temperature 1) samples: else this test could not tell the defaults apart
        assertTrue(sampledWithoutDefaults.stream().anyMatch(t -> !t.equals(greedy)), "sampling gave the greedy text 3 times");

        OpenAiServer server = serve(config(List.of(), false));
        try {
            for (long seed = 1; seed <= 3; seed++) {
                assertEquals(greedy, complete(server, seed, null).get("text").asText(), "seed " + seed);
            }
            List<String> explicit = new java.util.ArrayList<>();
            for (long seed = 1; seed <= 3; seed++) {
                explicit.add(complete(server, seed, 1.0).get("text").asText());
            }
            assertEquals(sampledWithoutDefaults, explicit, "a request's temperature overrides do_sample: false");
        } finally {
            server.drainAndStop();
        }
    }

    @Test
    void theModelsEosIdsEndACompletion() throws Exception {
        GenerationResult alone = TestModels.greedyAlone(TestModels.tiny(7), PROMPT, TOKENS, List.of());
        String text = alone.text();
        int cut = -1;
        for (int i = 1; i < text.length() && cut < 0; i++) {
            if (text.indexOf(text.charAt(i)) == i) {   // a character whose first appearance is not at the start
                cut = i;
            }
        }
        assertTrue(cut > 0, "the greedy text has no second distinct character: " + text);
        int eos = TestModels.CHARS.encode(String.valueOf(text.charAt(cut)))[0];
        OpenAiServer server = serve(config(List.of(eos), false));
        try {
            JsonNode choice = complete(server, null, null);
            assertEquals(text.substring(0, cut), choice.get("text").asText());
            assertEquals("stop", choice.get("finish_reason").asText());
        } finally {
            server.drainAndStop();
        }
        OpenAiServer plain = serve(config(List.of(), false));
        try {
            assertNotEquals("stop", complete(plain, null, null).get("finish_reason").asText(), "without the eos id");
        } finally {
            plain.drainAndStop();
        }
    }
}
