package dev.jgpt.infer;

import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.TokenizerConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
     * The ids of the {@linkplain #stopStrings() end-of-turn markers} that {@code tokenizer} has as
     * single tokens ({@code <|im_end|>}, {@code <|eot_id|>}): generation can stop at these ids
     * ({@link GenerationOptions#stopTokens()}) rather than at their text.
     */
    default List<Integer> stopTokens(Tokenizer tokenizer) {
        List<Integer> ids = new ArrayList<>();
        for (String marker : stopStrings()) {
            TokenizerConfig.singleTokenId(tokenizer, marker).ifPresent(ids::add);
        }
        return ids;
    }

    /**
     * The template of a model directory: its own ({@link JinjaChatTemplate}, from
     * {@code tokenizer_config.json} or {@code chat_template.jinja}), or the plain one if it has none.
     *
     * @throws UnsupportedChatTemplateException if the model has a chat template jgpt cannot render
     *                                          (the message names the file and the problem)
     * @throws IOException                      if {@code tokenizer_config.json} cannot be read or is not JSON
     */
    static ChatTemplate forModel(Path modelDir) throws IOException {
        TokenizerConfig config;
        try {
            config = TokenizerConfig.load(modelDir);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return of(config);
    }

    /**
     * The template a model's tokenizer config carries (a directory's files, or a GGUF file's
     * {@code tokenizer.chat_template}), or the plain one if it has none.
     *
     * @throws UnsupportedChatTemplateException if it has a chat template jgpt cannot render
     */
    static ChatTemplate of(TokenizerConfig config) throws UnsupportedChatTemplateException {
        try {
            return JinjaChatTemplate.of(config).<ChatTemplate>map(t -> t).orElse(PlainChatTemplate.INSTANCE);
        } catch (IllegalArgumentException e) {   // a ChatTemplateException, or a list of templates without a default
            throw new UnsupportedChatTemplateException(e.getMessage());
        }
    }

    /** The model's own chat template cannot be rendered; using another one would give wrong prompts. */
    final class UnsupportedChatTemplateException extends IOException {
        public UnsupportedChatTemplateException(String message) {
            super(message);
        }
    }
}
