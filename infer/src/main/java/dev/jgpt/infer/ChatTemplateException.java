package dev.jgpt.infer;

/**
 * A chat template could not turn a conversation into a prompt: the template failed, or it raised
 * an exception for this conversation (e.g. roles that do not alternate). The message names the
 * template's file and the problem, in one line.
 */
public final class ChatTemplateException extends IllegalArgumentException {
    private final String problem;

    /**
     * @param source  the template's file (or another name for it)
     * @param problem what went wrong, without the file: for answers that should not show local paths
     */
    public ChatTemplateException(Object source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.problem = problem;
    }

    /** The problem without the template's file name. */
    public String problem() {
        return problem;
    }
}
