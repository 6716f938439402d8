package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerConfigTest {

    static TokenizerConfig write(Path dir, String json) throws IOException {
        Files.writeString(dir.resolve(TokenizerConfig.FILE_NAME), json);
        return TokenizerConfig.load(dir);
    }

    @Test
    void specialTokensAreStringsOrObjectsWithContent(@TempDir Path dir) throws IOException {
        TokenizerConfig c = write(dir, """
                {"add_bos_token": true, "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "pad_token": null, "unk_token": {"content": "<unk>"},
                 "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"}""");
        assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>"), c.specialTokens());
        assertEquals(Optional.of("<s>"), c.bosToken());
        assertEquals(Optional.of("</s>"), c.eosToken());
        assertEquals(Optional.of(true), c.addBosToken());
        assertEquals(Optional.of("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"), c.chatTemplate());
        assertEquals(dir.resolve(TokenizerConfig.FILE_NAME), c.source());
    }

    @Test
    void aListOfTemplatesUsesTheOneNamedDefault(@TempDir Path dir) throws IOException {
        TokenizerConfig c = write(dir, """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"},
                                   {"name": "rag", "template": "R"}]}""");
        assertEquals(List.of("tool_use", "default", "rag"), List.copyOf(c.chatTemplates().keySet()));
        assertEquals(Optional.of("D"), c.chatTemplate());

        TokenizerConfig noDefault = write(dir, "{\"chat_template\": [{\"name\": \"a\", \"template\": \"A\"}, "
                + "{\"name\": \"b\", \"template\": \"B\"}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, noDefault::chatTemplate);
        assertEquals(dir.resolve(TokenizerConfig.FILE_NAME) + ": chat_template lists [a, b] and none is named \"default\"",
                e.getMessage());
    }

    @Test
    void chatTemplateJinjaTakesPrecedenceAsInTransformers(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(TokenizerConfig.TEMPLATE_FILE_NAME), "{{ messages[0].content }}\n");
        TokenizerConfig onlyJinja = TokenizerConfig.load(dir);
        assertEquals(Optional.of("{{ messages[0].content }}\n"), onlyJinja.chatTemplate());
        assertEquals(dir.resolve(TokenizerConfig.TEMPLATE_FILE_NAME), onlyJinja.source());

        TokenizerConfig both = write(dir, "{\"chat_template\": \"old\", \"eos_token\": \"<|im_end|>\"}");
        assertEquals(Optional.of("{{ messages[0].content }}\n"), both.chatTemplate());
        assertEquals(Optional.of("<|im_end|>"), both.eosToken());
    }

    @Test
    void noFilesNoTemplate(@TempDir Path dir) throws IOException {
        TokenizerConfig c = TokenizerConfig.load(dir);
        assertEquals(Optional.empty(), c.chatTemplate());
        assertEquals(Map.of(), c.specialTokens());
        assertEquals(Optional.empty(), c.addBosToken());
        assertEquals(dir, c.source());
        assertEquals(Optional.empty(), write(dir, "{\"model_max_length\": 1024}").chatTemplate());
    }

    @Test
    void badFilesAreOneErrorNamingTheFileAndTheKey(@TempDir Path dir) {
        Path file = dir.resolve(TokenizerConfig.FILE_NAME);
        for (String[] bad : new String[][] {
                {"{\"chat_template\": 3}", "chat_template must be a string or a list of {name, template}, got NUMBER"},
                {"{\"chat_template\": [{\"name\": \"default\"}]}",
                        "chat_template: each entry of the list needs a \"name\" and a \"template\" string"},
                {"{\"eos_token\": 2}", "eos_token must be a string or an object with a \"content\" string, got 2"},
                {"{\"add_bos_token\": \"yes\"}", "add_bos_token must be true or false, got \"yes\""},
                {"[1]", "not a JSON object"},
                {"{\"chat_template\": \"x\"", "not valid JSON at line 1, column 22"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> write(dir, bad[0]));
            assertTrue(e.getMessage().startsWith(file + ": " + bad[1]), bad[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void singleTokenIdsAreSpecialTokensTheTokenizerKeepsWhole() throws IOException {
        try (Tokenizer gpt2 = Tokenizers.load(SharedData.gpt2())) {
            assertEquals(OptionalInt.of(50256), TokenizerConfig.singleTokenId(gpt2, "<|endoftext|>"));
            assertEquals(OptionalInt.of(15496), TokenizerConfig.singleTokenId(gpt2, "Hello"));
            assertEquals(OptionalInt.empty(), TokenizerConfig.singleTokenId(gpt2, "<|im_end|>"));
            assertEquals(OptionalInt.empty(), TokenizerConfig.singleTokenId(gpt2, ""));
        }
        CharTokenizer chars = CharTokenizer.fromText("abc");
        assertEquals(OptionalInt.of(1), TokenizerConfig.singleTokenId(chars, "b"));
        assertEquals(OptionalInt.empty(), TokenizerConfig.singleTokenId(chars, "</s>"), "characters it does not know");
    }
}
