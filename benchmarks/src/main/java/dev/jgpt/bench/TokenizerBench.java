package dev.jgpt.bench;

import dev.jgpt.tokenizer.BpeTrainer;
import dev.jgpt.tokenizer.CharTokenizer;
import dev.jgpt.tokenizer.HfTokenizer;
import dev.jgpt.tokenizer.Tokenizer;
import dev.jgpt.tokenizer.Tokenizers;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Encode and decode throughput on tiny Shakespeare (1.1 MB, one call per operation, as
 * {@code jgpt prepare} does) for each tokenizer:
 * <ul>
 *   <li>{@code char}: jgpt's pure-Java {@link CharTokenizer} (65 tokens);</li>
 *   <li>{@code gpt2}: GPT-2's tokenizer.json, encoded by jgpt's pure-Java byte-level BPE and decoded by DJL;</li>
 *   <li>{@code gpt2-djl}: the same file encoded by DJL (Rust via JNI), the reference the Java encoder
 *       gives the same ids as: the ratio of the two {@code encode} figures is the Java encoder's speed-up;</li>
 *   <li>{@code bpe1k}: a 1024-token byte-level BPE trained by jgpt's {@link BpeTrainer} in setup,
 *       then loaded like any tokenizer.json (so also encoded in Java).</li>
 * </ul>
 * The secondary results {@code encode:tokens} / {@code decode:tokens} (shown in ops/s) are tokens/s.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Djgpt.shared=../shared -jar benchmarks/target/benchmarks.jar TokenizerBench -wi 2 -i 3 -f 1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx4g", "-XX:+UseParallelGC", "-Dai.djl.offline=true"})
public class TokenizerBench {

    @Param({"char", "gpt2", "gpt2-djl", "bpe1k"})
    public String tokenizer;

    private Tokenizer tok;
    private Function<String, int[]> encoder;
    private String text;
    private int[] ids;
    private Path tmp;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Tokens {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path data = Path.of(System.getProperty("jgpt.shared", "../shared")).resolve("data");
        text = Files.readString(data.resolve("tinyshakespeare.txt"));
        tok = switch (tokenizer) {
            case "char" -> CharTokenizer.fromText(text);
            case "gpt2", "gpt2-djl" -> Tokenizers.load(data.resolve("gpt2/tokenizer.json"));
            case "bpe1k" -> {
                tmp = Files.createTempDirectory("jgpt-bench");
                BpeTrainer.train(text, 1024).save(tmp.resolve("tokenizer.json"));
                yield Tokenizers.load(tmp);
            }
            default -> throw new IllegalArgumentException("unknown tokenizer " + tokenizer);
        };
        encoder = tokenizer.equals("gpt2-djl") ? ((HfTokenizer) tok)::libraryEncode : tok::encode;
        ids = encoder.apply(text);
        if (!tok.decode(ids).equals(text)) {
            throw new IllegalStateException(tokenizer + " does not round-trip tiny Shakespeare");
        }
        System.out.printf("%n%s: %,d tokens, %.2f bytes/token%n", tokenizer, ids.length, (double) text.length() / ids.length);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        tok.close();
        if (tmp != null) {
            Files.deleteIfExists(tmp.resolve("tokenizer.json"));
            Files.deleteIfExists(tmp);
        }
    }

    @Benchmark
    public int[] encode(Tokens counter) {
        int[] out = encoder.apply(text);
        counter.tokens += out.length;
        return out;
    }

    @Benchmark
    public String decode(Tokens counter) {
        String out = tok.decode(ids);
        counter.tokens += ids.length;
        return out;
    }
}
