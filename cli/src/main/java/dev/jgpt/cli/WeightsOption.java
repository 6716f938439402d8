package dev.jgpt.cli;

import dev.jgpt.kernel.quant.WeightType;
import picocli.CommandLine.Option;

/** {@code --weights TYPE} of the commands that run a model: quantize its matrices on load. */
final class WeightsOption {
    @Option(names = "--weights", paramLabel = "TYPE",
            description = "Quantize a model directory's weights on load and compute with them in that type: f16, bf16, "
                    + "q8_0, q4_0, q4_k, q6_k (vectors stay f32; the LM head of 4-bit types is q6_k). Default: as stored.")
    String weights;

    /** The type asked for, or null to keep the weights as stored. */
    WeightType type() {
        return ModelFiles.weightType("--weights", weights);
    }
}
