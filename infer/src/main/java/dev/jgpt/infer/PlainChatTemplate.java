package dev.jgpt.infer;

import java.util.ArrayList;
import java.util.List;

/**
 * The chat format for models trained without one (jgpt's GPT-2-style models, GPT-2 itself):
 * each message as {@code Role: content}, messages separated by a blank line, and the prompt ending
 * with {@code Assistant:} for the model to continue. Two messages become
 *
 * <pre>
 * System: You are terse.
 *
 * User: Hello?
 *
 * Assistant:</pre>
 *
 * The reply ends where the model starts a new turn: at a line that begins with one of the role
 * labels ({@code User:}, {@code Assistant:}, {@code System:}), the line breaks before it dropped.
 * Plain text that any model has seen, so a base model at least continues the dialogue's shape.
 */
public final class PlainChatTemplate implements ChatTemplate {
    public static final PlainChatTemplate INSTANCE = new PlainChatTemplate();

    private static final List<String> STOPS;

    static {
        List<String> stops = new ArrayList<>();
        for (ChatMessage.Role role : ChatMessage.Role.values()) {
            stops.add("\n\n" + label(role) + ":");   // the match that starts first wins: both line breaks go
            stops.add("\n" + label(role) + ":");
        }
        STOPS = List.copyOf(stops);
    }

    private PlainChatTemplate() {
    }

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public String render(List<ChatMessage> messages) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("chat: no messages");
        }
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(label(m.role())).append(": ").append(m.content()).append("\n\n");
        }
        return sb.append(label(ChatMessage.Role.ASSISTANT)).append(':').toString();
    }

    @Override
    public List<String> stopStrings() {
        return STOPS;
    }

    /** {@code User}, {@code Assistant}, {@code System}. */
    static String label(ChatMessage.Role role) {
        String id = role.id();
        return Character.toUpperCase(id.charAt(0)) + id.substring(1);
    }
}
