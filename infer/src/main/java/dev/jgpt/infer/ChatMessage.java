package dev.jgpt.infer;

import java.util.Locale;
import java.util.Objects;

/**
 * One message of a conversation.
 *
 * @param role    who speaks: {@link Role#SYSTEM}, {@link Role#USER} or {@link Role#ASSISTANT}
 * @param content what they say
 */
public record ChatMessage(Role role, String content) {

    /** The speakers a chat template knows. */
    public enum Role {
        SYSTEM, USER, ASSISTANT;

        /** The lower-case name used by chat APIs and Hugging Face templates ({@code "user"}). */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The role named {@code id} ({@code "developer"} is OpenAI's newer name for system).
         *
         * @throws IllegalArgumentException for any other name (tool and function messages are not supported)
         */
        public static Role of(String id) {
            return switch (id) {
                case "system", "developer" -> SYSTEM;
                case "user" -> USER;
                case "assistant" -> ASSISTANT;
                default -> throw new IllegalArgumentException("unsupported message role '" + id
                        + "' (supported: system, developer, user, assistant)");
            };
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
