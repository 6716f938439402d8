package dev.jgpt.infer;

/** Why a generation ended. */
public enum StopReason {
    /** Generated the requested number of tokens. */
    MAX_TOKENS("max-tokens"),
    /** The model produced the end-of-text token or another stop token (an eos id, an end-of-turn token). */
    END_OF_TEXT("end-of-text"),
    /** The text contained one of the stop strings. */
    STOP_STRING("stop-string"),
    /** The model's context is used up and the overflow policy is {@code STOP}. */
    CONTEXT_FULL("context-full"),
    /** The caller stopped consuming tokens before any other reason applied. */
    CANCELLED("cancelled");

    private final String label;

    StopReason(String label) {
        this.label = label;
    }

    /** Short lower-case name, as printed in the CLI's summary. */
    public String label() {
        return label;
    }
}
