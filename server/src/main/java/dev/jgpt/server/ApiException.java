package dev.jgpt.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answered in OpenAI's shape,
 * {@code {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}}, with an HTTP status
 * and, for "try again later" answers, a {@code Retry-After} header.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;
    private final String param;
    private final int retryAfterSeconds;

    /**
     * @param code              OpenAI's machine-readable code (e.g. {@code model_not_found}), or null
     * @param param             the request field at fault, or null
     * @param retryAfterSeconds sent as {@code Retry-After} when positive
     */
    public ApiException(int status, String type, String code, String param, String message, int retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Malformed JSON, a wrong type or value, an unsupported option: 400. */
    public static ApiException badRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", null, param, message, 0);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String param() {
        return param;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
