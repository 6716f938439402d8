package dev.jgpt.infer;

/**
 * A chat template could not turn a conversation into a prompt: the template failed, or it raised
 * an exception for this conversation (e.g. roles that do not alternate). The message names the
 * template's file and the problem, in one line.
 */
public final class ChatTemplateException extends IllegalArgumentException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
