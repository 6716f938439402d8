package dev.jgpt.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GenerationConfigTest {

    static GenerationConfig write(Path dir, String json) throws IOException {
        Files.writeString(dir.resolve(GenerationConfig.FILE_NAME), json);
        return GenerationConfig.load(dir);
    }

    @Test
    void llama32InstructsConfigGivesItsEosIdsAndSamplingDefaults(@TempDir Path dir) throws IOException {
        GenerationConfig c = write(dir, """
                {"bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
                 "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.45.0.dev0"}""");
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals(OptionalInt.of(128000), c.bosTokenId());
        GenerationOptions o = c.applyTo(GenerationOptions.builder().addStopTokens(List.of(128009, 7))).build();
        assertEquals(List.of(128009, 7, 128001, 128008), o.stopTokens());
        assertEquals(0.6f, o.temperature());
        assertEquals(0.9f, o.topP());
        assertEquals(40, o.topK(), "not in the file: jgpt's default");
        assertEquals(1f, o.repeatPenalty());
    }

    @Test
    void qwensSingleValuesAndPenaltyOverTheWholeContext(@TempDir Path dir) throws IOException {
        GenerationConfig c = write(dir, """
                {"bos_token_id": 151643, "pad_token_id": 151643, "do_sample": true, "eos_token_id": 151645,
                 "repetition_penalty": 1.1, "temperature": 0.7, "top_p": 0.8, "top_k": 20}""");
        assertEquals(List.of(151645), c.eosTokenIds());
        GenerationOptions o = c.applyTo(GenerationOptions.builder()).build();
        assertEquals(20, o.topK());
        assertEquals(1.1f, o.repeatPenalty());
        assertEquals(-1, o.repeatLastN());
        // explicit settings after it win
        GenerationOptions flags = c.applyTo(GenerationOptions.builder()).temperature(0f).topK(5).build();
        assertEquals(0f, flags.temperature());
        assertEquals(5, flags.topK());
    }

    @Test
    void doSampleFalseIsGreedy(@TempDir Path dir) throws IOException {
        GenerationConfig c = write(dir, "{\"do_sample\": false, \"temperature\": 0.9, \"eos_token_id\": null}");
        assertEquals(Optional.of(false), c.doSample());
        assertEquals(List.of(), c.eosTokenIds());
        assertEquals(0f, c.applyTo(GenerationOptions.builder()).build().temperature());
    }

    @Test
    void noFileNoDefaults(@TempDir Path dir) throws IOException {
        assertSame(GenerationConfig.NONE, GenerationConfig.load(dir));
        assertEquals(GenerationOptions.defaults(), GenerationConfig.NONE.applyTo(GenerationOptions.builder()).build());
    }

    @Test
    void badValuesAreOneErrorNamingTheFileAndTheKey(@TempDir Path dir) {
        Path file = dir.resolve(GenerationConfig.FILE_NAME);
        for (String[] bad : new String[][] {
                {"{\"eos_token_id\": \"</s>\"}", "eos_token_id must be a token id or a list of them, got \"</s>\""},
                {"{\"eos_token_id\": [2, -1]}", "eos_token_id must be a token id or a list of them, got [2,-1]"},
                {"{\"top_p\": 0}", "top_p must be in (0, 1], got 0"},
                {"{\"top_k\": 2.5}", "top_k must be an integer >= 0, got 2.5"},
                {"{\"temperature\": \"hot\"}", "temperature must be a number >= 0, got \"hot\""},
                {"{\"do_sample\": 1}", "do_sample must be true or false, got 1"},
                {"{\"eos_token_id\": ", "not valid JSON"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> write(dir, bad[0]));
            String message = bad[1].equals("not valid JSON") ? e.getMessage().replaceFirst(" \\(.*", "") : e.getMessage();
            assertEquals(file + ": " + bad[1], message, bad[0]);
        }
    }
}
