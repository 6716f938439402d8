package dev.jgpt.infer;

import dev.jgpt.tokenizer.TokenizerConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A multi-turn chat on a {@link Generator}: the conversation so far, rendered by the model's
 * {@link ChatTemplate}, with its tokens kept in the generator's KV cache between turns.
 *
 * <pre>{@code
 * ChatSession chat = new ChatSession(new Generator(model, tokenizer), JinjaChatTemplate.of(config).orElseThrow());
 * chat.add(new ChatMessage(ChatMessage.Role.SYSTEM, "Be brief."));
 * GenerationResult r = chat.send("Hello!", options, t -> System.out.print(t.text()));
 * chat.send("And then?", options, t -> System.out.print(t.text()));   // prefills only the new turn
 * }</pre>
 *
 * <p><b>Each turn</b> renders the whole conversation (with the generation prompt), encodes it, and
 * runs through the model only the tokens after the longest prefix already in the cache: normally
 * the end of the last reply and the new messages. Where the template rewrites earlier text (a
 * date that changed, a system message it moves to the last user turn) or the reply re-encodes to
 * other tokens than were sampled, the cache is cut back to where they differ and re-filled from
 * there. So the model always sees exactly what a fresh prefill of the rendered conversation
 * would give it.
 *
 * <p><b>The reply ends</b> at the options' end-of-text and stop tokens (give a model's eos ids with
 * {@link GenerationConfig#applyTo}) and at the template's end-of-turn marker
 * ({@link ChatTemplate#stopStrings()}, e.g. {@code <|eot_id|>}, {@code <|im_end|>}): as a token
 * where the tokenizer has it as one, else as a stop string. None of them is part of the reply.
 * The reply's text becomes the assistant message of the conversation.
 *
 * <p>Not thread-safe; it drives the generator, which should not be used for anything else meanwhile.
 */
public final class ChatSession {
    private final Generator generator;
    private final ChatTemplate template;
    private final List<Integer> endOfTurnTokens = new ArrayList<>();
    private final List<String> endOfTurnStrings = new ArrayList<>();
    private final List<ChatMessage> messages = new ArrayList<>();
    private int reusedTokens;

    public ChatSession(Generator generator, ChatTemplate template) {
        this.generator = Objects.requireNonNull(generator, "generator");
        this.template = Objects.requireNonNull(template, "template");
        endOfTurnTokens.addAll(template.stopTokens(generator.tokenizer()));
        for (String marker : template.stopStrings()) {
            if (TokenizerConfig.singleTokenId(generator.tokenizer(), marker).isEmpty()) {
                endOfTurnStrings.add(marker);
            }
        }
    }

    /** The conversation so far, oldest first (unmodifiable view). */
    public List<ChatMessage> messages() {
        return Collections.unmodifiableList(messages);
    }

    /** Appends a message (a system message first, a user message, an assistant message written by hand). */
    public void add(ChatMessage message) {
        messages.add(Objects.requireNonNull(message, "message"));
    }

    /**
     * Adds the user's message and generates the assistant's reply ({@link #reply}). If the reply
     * fails (the template rejects the conversation, it no longer fits the context), the
     * conversation is left as it was.
     */
    public GenerationResult send(String userMessage, GenerationOptions options, TokenListener listener) {
        add(new ChatMessage(ChatMessage.Role.USER, userMessage));
        try {
            return reply(options, listener);
        } catch (RuntimeException e) {
            messages.removeLast();
            throw e;
        }
    }

    /**
     * Generates the assistant's reply to the conversation, streaming its tokens to
     * {@code listener}, and appends it as an assistant message.
     *
     * @throws ChatTemplateException    if the template rejects the conversation (nothing is generated)
     * @throws IllegalArgumentException if the rendered conversation is longer than the model's context
     */
    public GenerationResult reply(GenerationOptions options, TokenListener listener) {
        int[] prompt = generator.tokenizer().encode(template.render(messages));
        if (prompt.length == 0) {
            throw new ChatTemplateException(template.name(), "the chat template renders the conversation as no text", null);
        }
        if (prompt.length > generator.contextLength()) {
            throw new IllegalArgumentException("the conversation is " + prompt.length + " tokens, more than the model's "
                    + "context of " + generator.contextLength() + " tokens");
        }
        int keep = commonPrefix(generator.tokens(), prompt);
        if (keep == prompt.length) {
            keep--;   // the last token must run again: its logits give the reply's first token
        }
        generator.truncate(keep);
        GenerationOptions.Builder withEndOfTurn = options.toBuilder().addStopTokens(endOfTurnTokens);
        for (String s : endOfTurnStrings) {
            withEndOfTurn.addStop(s);
        }
        int[] feed = java.util.Arrays.copyOfRange(prompt, keep, prompt.length);
        GenerationResult result = generator.generate(feed, withEndOfTurn.build(), listener);
        reusedTokens = keep;
        messages.add(new ChatMessage(ChatMessage.Role.ASSISTANT, result.text()));
        return result;
    }

    /**
     * How many tokens of the last reply's prompt were already in the cache (the rest were
     * prefilled): all but the new turn's when the template only appends.
     */
    public int reusedTokens() {
        return reusedTokens;
    }

    /** Forgets the conversation and empties the cache. */
    public void reset() {
        messages.clear();
        generator.reset();
        reusedTokens = 0;
    }

    /** The ids of the end-of-turn markers the tokenizer has as single tokens. */
    public List<Integer> endOfTurnTokens() {
        return List.copyOf(endOfTurnTokens);
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
