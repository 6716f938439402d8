package dev.jgpt.cli;

import dev.jgpt.kernel.Gemm;
import dev.jgpt.kernel.Simd;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "smoke", description = "Checks that the kernel runs: a small matmul and the SIMD setup.")
final class SmokeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        float[] a = {1, 2, 3, 4}, w = {1, 0, 0, 1}, out = new float[4];
        Gemm.linearForward(out, a, w, null, 2, 2, 2);
        System.out.println(Simd.describe() + "; [[1,2],[3,4]]·I = " + java.util.Arrays.toString(out));
        return 0;
    }
}
