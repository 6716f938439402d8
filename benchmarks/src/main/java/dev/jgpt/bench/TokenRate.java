package dev.jgpt.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JMH secondary results of a training-style benchmark, shown in "ops/s": {@code tokens} is tokens/s
 * and {@code gflop} is achieved GFLOP/s by nanoGPT's count, (6·N + 12·L·d·T) FLOPs per token.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class TokenRate {
    public double gflop;
    public double tokens;

    @Setup(Level.Iteration)
    public void reset() {
        gflop = 0;
        tokens = 0;
    }

    /** Counts one step of {@code tokensPerStep} tokens and {@code gflopPerStep} GFLOP. */
    void count(double tokensPerStep, double gflopPerStep) {
        tokens += tokensPerStep;
        gflop += gflopPerStep;
    }
}
