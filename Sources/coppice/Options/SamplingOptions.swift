import ArgumentParser
import CoppiceLLM

struct SamplingOptions: ParsableArguments {
    @Option(help: "Temperature (0: greedy).") var temperature: Float = 0.6
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus: keep the most likely tokens up to this mass.") var topP: Float = 0.9
    @Option(name: .customLong("min-p"), help: "Drop tokens below this fraction of the top probability.") var minP: Float = 0
    @Option(name: .customLong("repeat-penalty"), help: "Divide the logits of the last 64 tokens by this.") var repeatPenalty: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 256

    func validate() throws {
        guard temperature >= 0, topK >= 0, topP > 0 && topP <= 1, minP >= 0 && minP < 1, repeatPenalty > 0, maxTokens > 0 else {
            throw ValidationError("sampling options out of range: temperature ≥ 0, top-k ≥ 0, top-p in (0, 1], min-p in [0, 1), repeat-penalty > 0")
        }
    }

    var sampler: Sampler {
        var s = Sampler(seed: seed)
        (s.temperature, s.topK, s.topP, s.minP, s.repetitionPenalty) = (temperature, topK, topP, minP, repeatPenalty)
        return s
    }
}
