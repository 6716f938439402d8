package dev.jgpt.infer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.jgpt.tokenizer.TokenizerConfig;
import jinjava.javax.el.CompositeELResolver;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's own chat template: the Jinja template of its {@code tokenizer_config.json} (or
 * {@code chat_template.jinja}), rendered by Jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it: {@code trim_blocks} and {@code lstrip_blocks} on, loop
 * controls, the variables {@code messages} (each with {@code role} and {@code content}),
 * {@code add_generation_prompt} and the special tokens ({@code bos_token}, {@code eos_token}, ...),
 * the functions {@code raise_exception} and {@code strftime_now}, HF's {@code tojson}, and Python's
 * string methods (see {@link JinjaPython}).
 *
 * <p>A template that fails, or raises an exception for a conversation, gives one
 * {@link ChatTemplateException} naming the file and the problem.
 *
 * <p>Thread-safe: rendering holds no state between calls.
 */
public final class JinjaChatTemplate implements ChatTemplate {
    private final String template;
    private final Map<String, String> specialTokens;
    private final Path source;
    private final Jinjava jinjava;
    private final Optional<String> endOfTurn;

    /**
     * Like Python's Jinja: Jinjava's fixes of its legacy behaviour, except requiring "{{ " with a
     * space and its trailing-newline switch (see the constructor).
     */
    private static final LegacyOverrides PYTHON_JINJA = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseTrimmingForNotesAndExpressions(true)   // {{- x -}} and {#- -#}, not only {%- -%}
            .withAllowAdjacentTextNodes(true)
            .withKeepNullableLoopValues(true)
            .withHandleBackslashInQuotesOnly(true)
            .build();

    /**
     * @param template      the Jinja source
     * @param specialTokens variables such as {@code bos_token} → {@code <|begin_of_text|>}
     * @param source        the file the template comes from, named in errors
     * @param clock         what {@code strftime_now} reads (Llama 3.x templates print today's date)
     * @throws ChatTemplateException if the template cannot render a one-message conversation
     */
    public JinjaChatTemplate(String template, Map<String, String> specialTokens, Path source, Clock clock) {
        Objects.requireNonNull(template, "template");
        // Jinja2 (keep_trailing_newline off) drops one line break at the end of the source; Jinjava's
        // own switch for it strips the output's instead, so the source is cut here
        this.template = template.endsWith("\r\n") ? template.substring(0, template.length() - 2)
                : template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        this.specialTokens = Map.copyOf(specialTokens);
        this.source = Objects.requireNonNull(source, "source");
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new JinjaPython.StringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        this.jinjava = new JinjaPython.PythonJinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withKeepTrailingNewline(true)
                .withLegacyOverrides(PYTHON_JINJA)
                .withElResolver(resolver)
                .withInterperterFactory(JinjaPython.PythonJinjava.INTERPRETERS)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .build());
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaPython.class, "raiseException", Object.class));
        jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaPython.class, "strftimeNow", String.class));
        jinjava.registerFilter(new JinjaPython.ToJson());
        jinjava.registerFilter(new JinjaPython.ListOf());
        jinjava.registerFilter(new JinjaPython.Items());
        render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hello")), true);   // fail now, not at the first chat
        this.endOfTurn = findEndOfTurn();
    }

    /**
     * The template of a model directory's {@code tokenizer_config.json} / {@code chat_template.jinja},
     * on the system clock; empty if it has none.
     *
     * @throws ChatTemplateException if it has one that cannot be rendered
     */
    public static Optional<JinjaChatTemplate> of(TokenizerConfig config) {
        return config.chatTemplate().map(t -> new JinjaChatTemplate(t, config.specialTokens(), config.source(),
                Clock.systemDefaultZone()));
    }

    @Override
    public String name() {
        return source.getFileName().toString();
    }

    /** The file the template comes from. */
    public Path source() {
        return source;
    }

    /** The conversation followed by the start of the assistant's turn ({@code add_generation_prompt}). */
    @Override
    public String render(List<ChatMessage> messages) {
        return render(messages, true);
    }

    /**
     * The conversation as the model saw it in training.
     *
     * @param addGenerationPrompt end with the start of the assistant's turn
     * @throws ChatTemplateException if the template raises an exception (e.g. roles out of order) or fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("chat: no messages");
        }
        List<Map<String, Object>> maps = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();   // json.dumps order: role, then content
            map.put("role", m.role().id());
            map.put("content", m.content());
            maps.add(map);
        }
        Map<String, Object> variables = new HashMap<>(specialTokens);
        variables.put("messages", maps);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return renderVariables(variables);
    }

    /**
     * Renders the template with any variables (messages as maps with tool calls, {@code tools},
     * {@code documents}, ...); the special tokens are set unless {@code variables} sets them.
     *
     * @throws ChatTemplateException if the template raises an exception or fails
     */
    public String renderVariables(Map<String, ?> variables) {
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.putAll(variables);
        RenderResult result;
        try {
            result = jinjava.renderForResult(template, context);
        } catch (JinjaPython.RaisedException e) {
            throw raised(e);
        } catch (RuntimeException e) {
            throw new ChatTemplateException(source, "the chat template cannot be rendered: " + e.getMessage(), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                if (error.getException() != null) {
                    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                        if (t instanceof JinjaPython.RaisedException raised) {
                            throw raised(raised);
                        }
                    }
                }
                throw new ChatTemplateException(source, "the chat template cannot be rendered: line "
                        + error.getLineno() + ": " + error.getMessage(), error.getException());
            }
        }
        for (String resolved : result.getContext().getResolvedValues()) {
            // Jinjava passes a value through a filter it does not know as null, silently; Jinja2 refuses
            if (resolved.startsWith(FILTER) && jinjava.getGlobalContext().getFilter(resolved.substring(FILTER.length())) == null) {
                throw new ChatTemplateException(source, "the chat template cannot be rendered: no filter named '"
                        + resolved.substring(FILTER.length()) + "'", null);
            }
        }
        return result.getOutput();
    }

    private static final String FILTER = "filter:";   // how Jinjava records a filter it looked up

    private ChatTemplateException raised(JinjaPython.RaisedException e) {
        return new ChatTemplateException(source, "the chat template rejects the conversation: " + e.getMessage(), e);
    }

    /**
     * The text the template puts right after an assistant message, up to the first whitespace:
     * the end-of-turn marker such as {@code <|im_end|>}, {@code <|eot_id|>} or {@code </s>}, found
     * by rendering a probe conversation. Empty if the template writes nothing there, or refuses a
     * plain user–assistant exchange.
     */
    public Optional<String> endOfTurn() {
        return endOfTurn;
    }

    /** The {@linkplain #endOfTurn() end-of-turn marker}, if any. */
    @Override
    public List<String> stopStrings() {
        return endOfTurn.map(List::of).orElse(List.of());
    }

    private Optional<String> findEndOfTurn() {
        String reply = "jgpt-probe-reply";
        String text;
        try {
            text = render(List.of(new ChatMessage(ChatMessage.Role.USER, "Hello"),
                    new ChatMessage(ChatMessage.Role.ASSISTANT, reply)), false);
        } catch (ChatTemplateException refused) {
            return Optional.empty();
        }
        int at = text.lastIndexOf(reply);
        if (at < 0) {
            return Optional.empty();
        }
        String after = text.substring(at + reply.length());
        int end = 0;
        while (end < after.length() && !Character.isWhitespace(after.charAt(end))) {
            end++;
        }
        return end == 0 ? Optional.empty() : Optional.of(after.substring(0, end));
    }
}
