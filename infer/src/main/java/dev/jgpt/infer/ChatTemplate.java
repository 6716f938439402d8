package dev.jgpt.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a conversation into the prompt text a model continues as the assistant, and says where
 * the assistant's turn ends. Models that were trained on chats carry their own template
 * (a Jinja template in {@code tokenizer_config.json}); models that were not get
 * {@link PlainChatTemplate}.
 */
public interface ChatTemplate {

    /** The file of a Hugging Face model directory that holds its chat template. */
    String TOKENIZER_CONFIG = "tokenizer_config.json";

    /** Short name for logs and errors, e.g. {@code plain}. */
    String name();

    /**
     * The prompt for {@code messages}, ending where the assistant's next turn begins.
     *
     * @throws IllegalArgumentException if the conversation is empty or the template cannot express it
     */
    String render(List<ChatMessage> messages);

    /** Text that ends the assistant's turn (besides the end-of-text token); not part of the reply. */
    List<String> stopStrings();

    /**
     * The template of a model directory: the plain one if its {@code tokenizer_config.json} is
     * missing or names no {@code chat_template}.
     *
     * @throws UnsupportedChatTemplateException if the model has a chat template jgpt cannot render
     *                                          (rendering Jinja templates is not built yet)
     * @throws IOException                      if {@code tokenizer_config.json} cannot be read or is not JSON
     */
    static ChatTemplate forModel(Path modelDir) throws IOException {
        Path config = modelDir.resolve(TOKENIZER_CONFIG);
        if (!Files.isRegularFile(config)) {
            return PlainChatTemplate.INSTANCE;
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            throw new IOException(config + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        JsonNode template = root == null ? null : root.get("chat_template");
        if (template == null || template.isNull()) {
            return PlainChatTemplate.INSTANCE;
        }
        // The place where a Jinja renderer plugs in: return a template that renders `template`.
        throw new UnsupportedChatTemplateException(config + " has a chat_template, and jgpt cannot render "
                + "Jinja chat templates yet");
    }

    /** The model's own chat template cannot be rendered; using another one would give wrong prompts. */
    final class UnsupportedChatTemplateException extends IOException {
        public UnsupportedChatTemplateException(String message) {
            super(message);
        }
    }
}
