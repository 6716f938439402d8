package dev.jgpt.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jgpt.infer.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A {@code /v1/completions} or {@code /v1/chat/completions} request body, checked field by field:
 * a wrong type or value, or an option this server does not implement, is a 400 naming the field
 * (never silently ignored). Fields that change nothing here ({@code user}, {@code metadata},
 * {@code store}, ...) and unknown ones are ignored, as by other OpenAI-compatible servers.
 *
 * @param model        the requested model id, or null if not given
 * @param prompt       the prompt text (completions; null if given as token ids, or for chat)
 * @param promptIds    the prompt as token ids (completions), or null
 * @param messages     the conversation (chat), or null
 * @param maxTokens    most tokens to generate, or null for the endpoint's default
 * @param temperature  in [0, 2]; 0 is greedy; null if not given (the model's default, else 1)
 * @param topP         in [0, 1]; 0 keeps only the most likely token; null if not given (the model's default, else 1)
 * @param topK         ≥ 0, 0 = off (an extension, as in vLLM and llama.cpp); null if not given (the model's
 *                     default, else off)
 * @param seed         the sampler's seed, or null for a random one
 * @param stop         up to 4 stop strings
 * @param stream       answer with server-sent events
 * @param includeUsage with {@code stream}: send a last chunk with the token counts
 */
public record ApiRequest(String model, String prompt, int[] promptIds, List<ChatMessage> messages, Integer maxTokens,
                         Float temperature, Float topP, Integer topK, Long seed, List<String> stop, boolean stream,
                         boolean includeUsage) {

    static final int MAX_STOP_STRINGS = 4;

    /** Parses a {@code /v1/completions} body. */
    public static ApiRequest completion(JsonNode body) {
        requireObject(body);
        JsonNode p = body.get("prompt");
        String prompt = null;
        int[] ids = null;
        if (p == null || p.isNull()) {
            throw ApiException.badRequest("'prompt' is required", "prompt");
        } else if (p.isTextual()) {
            prompt = p.asText();
        } else if (p.isArray()) {
            JsonNode one = p;
            if (p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) {
                one = p.get(0);   // a list of one prompt
            } else if (p.size() > 1 && (p.get(0).isTextual() || p.get(0).isArray())) {
                throw ApiException.badRequest("this server takes one prompt per request, got " + p.size(), "prompt");
            }
            if (one.isTextual()) {
                prompt = one.asText();
            } else {
                ids = new int[one.size()];
                for (int i = 0; i < ids.length; i++) {
                    JsonNode t = one.get(i);
                    if (!t.isIntegralNumber() || !t.canConvertToInt()) {
                        throw ApiException.badRequest("'prompt' must be a string, a list of one string, or a list "
                                + "of token ids", "prompt");
                    }
                    ids[i] = t.asInt();
                }
            }
        } else {
            throw ApiException.badRequest("'prompt' must be a string, a list of one string, or a list of token ids", "prompt");
        }
        unsupportedUnless(body, "echo", v -> v.isBoolean() && !v.asBoolean());
        unsupportedUnless(body, "suffix", v -> false);
        unsupportedUnless(body, "logprobs", v -> v.isIntegralNumber() && v.asInt() == 0);
        unsupportedUnless(body, "best_of", v -> v.isIntegralNumber() && v.asInt() == 1);
        return common(body, prompt, ids, null, optionalInt(body, "max_tokens", 1));
    }

    /** Parses a {@code /v1/chat/completions} body. */
    public static ApiRequest chat(JsonNode body) {
        requireObject(body);
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) {
            throw ApiException.badRequest("'messages' must be a non-empty list of messages", "messages");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            messages.add(message(ms.get(i), "messages[" + i + "]"));
        }
        unsupportedUnless(body, "logprobs", v -> v.isBoolean() && !v.asBoolean());
        unsupportedUnless(body, "top_logprobs", v -> false);
        unsupportedUnless(body, "tools", v -> v.isArray() && v.isEmpty());
        unsupportedUnless(body, "functions", v -> v.isArray() && v.isEmpty());
        unsupportedUnless(body, "tool_choice", v -> v.isTextual() && v.asText().equals("none"));
        unsupportedUnless(body, "function_call", v -> v.isTextual() && v.asText().equals("none"));
        unsupportedUnless(body, "response_format", v -> v.path("type").asText().equals("text"));
        Integer max = optionalInt(body, "max_completion_tokens", 1);
        if (max == null) {
            max = optionalInt(body, "max_tokens", 1);
        }
        return common(body, null, null, List.copyOf(messages), max);
    }

    private static ChatMessage message(JsonNode m, String where) {
        if (m == null || !m.isObject()) {
            throw ApiException.badRequest("'" + where + "' must be an object with 'role' and 'content'", where);
        }
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual()) {
            throw ApiException.badRequest("'" + where + ".role' must be a string", where + ".role");
        }
        ChatMessage.Role r;
        try {
            r = ChatMessage.Role.of(role.asText());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'" + where + ".role': " + e.getMessage(), where + ".role");
        }
        JsonNode content = m.get("content");
        String text;
        if (content != null && content.isTextual()) {
            text = content.asText();
        } else if (content != null && content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                    throw ApiException.badRequest("'" + where + ".content': only text parts are supported "
                            + "({\"type\": \"text\", \"text\": ...})", where + ".content");
                }
                sb.append(part.get("text").asText());
            }
            text = sb.toString();
        } else {
            throw ApiException.badRequest("'" + where + ".content' must be a string or a list of text parts",
                    where + ".content");
        }
        return new ChatMessage(r, text);
    }

    private static ApiRequest common(JsonNode body, String prompt, int[] ids, List<ChatMessage> messages, Integer maxTokens) {
        String model = null;
        JsonNode m = body.get("model");
        if (m != null && !m.isNull()) {
            if (!m.isTextual()) {
                throw ApiException.badRequest("'model' must be a string", "model");
            }
            model = m.asText();
        }
        Integer n = optionalInt(body, "n", 1);
        if (n != null && n != 1) {
            throw ApiException.badRequest("'n' must be 1: this server generates one choice per request", "n");
        }
        for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
            Double v = optionalNumber(body, penalty, -2, 2);
            if (v != null && v != 0) {
                throw ApiException.badRequest("'" + penalty + "' is not supported by this server (only 0)", penalty);
            }
        }
        unsupportedUnless(body, "logit_bias", v -> v.isObject() && v.isEmpty());
        Double temperature = optionalNumber(body, "temperature", 0, 2);
        Double topP = optionalNumber(body, "top_p", 0, 1);
        Integer topK = optionalInt(body, "top_k", 0);
        Long seed = null;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) {
                throw ApiException.badRequest("'seed' must be an integer", "seed");
            }
            seed = s.asLong();
        }
        boolean stream = optionalBoolean(body, "stream", false);
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!stream) {
                throw ApiException.badRequest("'stream_options' is only allowed when 'stream' is true", "stream_options");
            }
            if (!so.isObject()) {
                throw ApiException.badRequest("'stream_options' must be an object", "stream_options");
            }
            includeUsage = optionalBoolean(so, "include_usage", false);
        }
        return new ApiRequest(model, prompt, ids, messages, maxTokens,
                temperature == null ? null : temperature.floatValue(), topP == null ? null : topP.floatValue(),
                topK, seed, stops(body.get("stop")), stream, includeUsage);
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.badRequest("'stop' must be a string or a list of strings", "stop");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.badRequest("'stop' must be a string or a list of strings", "stop");
        }
        if (out.size() > MAX_STOP_STRINGS) {
            throw ApiException.badRequest("'stop' may have at most " + MAX_STOP_STRINGS + " strings, got " + out.size(), "stop");
        }
        if (out.contains("")) {
            throw ApiException.badRequest("'stop' strings must not be empty", "stop");
        }
        return List.copyOf(out);
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
    }

    private static Integer optionalInt(JsonNode body, String field, int min) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.badRequest("'" + field + "' must be an integer", field);
        }
        if (v.asInt() < min) {
            throw ApiException.badRequest("'" + field + "' must be >= " + min + ", got " + v.asInt(), field);
        }
        return v.asInt();
    }

    private static Double optionalNumber(JsonNode body, String field, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest("'" + field + "' must be a number", field);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiException.badRequest("'" + field + "' must be in [" + fmt(min) + ", " + fmt(max) + "], got " + v, field);
        }
        return d;
    }

    private static boolean optionalBoolean(JsonNode body, String field, boolean otherwise) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest("'" + field + "' must be true or false", field);
        }
        return v.asBoolean();
    }

    /** A 400 unless the field is absent, null or a value that asks for nothing this server lacks. */
    private static void unsupportedUnless(JsonNode body, String field, Predicate<JsonNode> harmless) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull() || harmless.test(v)) {
            return;
        }
        throw ApiException.badRequest("'" + field + "' is not supported by this server", field);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
