import dev.jgpt.model.GPT;
import dev.jgpt.model.GPTConfig;
import dev.jgpt.model.io.ModelDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a model directory of GPT-2 124M's shape with random weights (GPT-2's init, seed 1) and GPT-2's
 * tokenizer: what {@code ttft.sh} times {@code jgpt generate} on. A single-file program on the CLI jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp cli/target/jgpt.jar benchmarks/scripts/RandomModelDir.java \
 *     /tmp/gpt2-random ../shared/data/gpt2/tokenizer.json
 * </pre>
 */
public class RandomModelDir {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: RandomModelDir.java DIR TOKENIZER_JSON");
            System.exit(2);
        }
        Path dir = Path.of(args[0]), tokenizer = Path.of(args[1]);
        if (!Files.isRegularFile(tokenizer)) {
            System.err.println("RandomModelDir: " + tokenizer + ": no such tokenizer.json (GPT-2's is in ../shared/data/gpt2)");
            System.exit(1);
        }
        ModelDir.save(new GPT(GPTConfig.gpt2Small(), 1), dir);
        Files.copy(tokenizer, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        System.out.println("wrote " + dir + ": GPT-2 124M shape, random weights, GPT-2's tokenizer");
    }
}
