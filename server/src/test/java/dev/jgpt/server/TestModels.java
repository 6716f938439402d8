package dev.jgpt.server;

import dev.jgpt.infer.PlainChatTemplate;
import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.GenerationResult;
import dev.jgpt.infer.Generator;
import dev.jgpt.infer.TokenListener;
import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.InitScheme;
import dev.jgpt.model.ResidualLayout;
import dev.jgpt.tokenizer.CharTokenizer;

/** A tiny random-weight char-level model, and the same model's single-request reference outputs. */
final class TestModels {
    static final String ALPHABET = "\n !,.:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static final CharTokenizer CHARS = CharTokenizer.fromText(ALPHABET);
    static final int CONTEXT = 64;

    private TestModels() {
    }

    /** Xavier init keeps the logits far from uniform, so greedy choices are clear and varied. */
    static GPT tiny(long seed) {
        return new GPT(new GPTConfig(CHARS.vocabSize(), CONTEXT, 2, 2, 32, true, 0f, 1e-5f, ResidualLayout.PRE_LN,
                InitScheme.XAVIER), seed);
    }

    /** What {@link Generator} (no server, one sequence) produces greedily for {@code prompt}. */
    static GenerationResult greedyAlone(GPT model, String prompt, int maxTokens, java.util.List<String> stops) {
        GenerationOptions o = GenerationOptions.builder().temperature(0f).maxTokens(maxTokens).stop(stops).build();
        return new Generator(model, CHARS).generate(prompt, o, TokenListener.NONE);
    }

    static OpenAiServer serve(GPT model, ServerConfig config) {
        return serve(new BatchedEngine(model, CONTEXT), config);
    }

    static OpenAiServer serve(BatchEngine engine, ServerConfig config) {
        return OpenAiServer.start(config, engine, CHARS, PlainChatTemplate.INSTANCE, null);
    }

    static ServerConfig config() {
        return ServerConfig.defaults("tiny").withPort(0);
    }
}
