package dev.jgpt.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatTemplateTest {

    @Test
    void plainTemplateWritesRoleLabelledTurnsAndOpensTheAssistantsTurn() {
        String prompt = PlainChatTemplate.INSTANCE.render(List.of(
                new ChatMessage(ChatMessage.Role.SYSTEM, "Be brief."),
                new ChatMessage(ChatMessage.Role.USER, "Hi"),
                new ChatMessage(ChatMessage.Role.ASSISTANT, "Hello."),
                new ChatMessage(ChatMessage.Role.USER, "Who are you?")));
        assertEquals("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Who are you?\n\nAssistant:", prompt);
        assertThrows(IllegalArgumentException.class, () -> PlainChatTemplate.INSTANCE.render(List.of()));
    }

    @Test
    void theReplyEndsWhereTheModelStartsANewTurnWithoutTheLineBreaks() {
        StopMatcher m = new StopMatcher(PlainChatTemplate.INSTANCE.stopStrings());
        String out = m.push(" I am here.\n") + m.push("\nUser: and") + m.push(" more");
        assertTrue(m.matched());
        assertEquals(" I am here.", out);
        StopMatcher single = new StopMatcher(PlainChatTemplate.INSTANCE.stopStrings());
        assertEquals(" a", single.push(" a\nAssistant: b"));
        assertTrue(single.matched());
    }

    @Test
    void rolesFollowTheChatApisNames() {
        assertEquals(ChatMessage.Role.SYSTEM, ChatMessage.Role.of("developer"));
        assertEquals("assistant", ChatMessage.Role.ASSISTANT.id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatMessage.Role.of("tool"));
        assertTrue(e.getMessage().contains("'tool'"), e.getMessage());
    }

    @Test
    void aModelWithoutItsOwnTemplateGetsThePlainOne(@TempDir Path dir) throws IOException {
        assertSame(PlainChatTemplate.INSTANCE, ChatTemplate.forModel(dir));
        Files.writeString(dir.resolve(ChatTemplate.TOKENIZER_CONFIG), "{\"model_max_length\": 1024}");
        assertSame(PlainChatTemplate.INSTANCE, ChatTemplate.forModel(dir));
    }

    @Test
    void aTokenizerConfigThatIsNotJsonIsAnErrorNamingIt(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(ChatTemplate.TOKENIZER_CONFIG), "{\"chat_template\": ");
        IOException bad = assertThrows(IOException.class, () -> ChatTemplate.forModel(dir));
        assertTrue(bad.getMessage().startsWith(dir.resolve(ChatTemplate.TOKENIZER_CONFIG) + ": not valid JSON"), bad.getMessage());
    }
}
