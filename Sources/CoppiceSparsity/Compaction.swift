import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// Physical compaction of structured pruning: output neurons (rows of a Linear weight) or output
/// channels (of a Conv2D weight) whose weights are all zero are removed, with the matching inputs of
/// the next layer, giving a smaller dense `Sequential` whose outputs equal the masked model's.
///
/// A removed unit still emits a constant, act(bias) (after batch norm's affine map, for channels).
/// Before a Linear that constant is folded into the next bias exactly. Before a convolution it is
/// folded only when the next convolution has no padding (with padding, border pixels would see it
/// differently); otherwise a unit is removed only when its constant is exactly zero.
public enum Compaction {
    public struct Summary: Sendable, Equatable {
        /// (layer index, units before, units after) for every compacted layer.
        public var layers: [(index: Int, before: Int, after: Int)]
        public var parametersBefore: Int
        public var parametersAfter: Int

        public static func == (a: Summary, b: Summary) -> Bool {
            a.parametersBefore == b.parametersBefore && a.parametersAfter == b.parametersAfter
                && a.layers.map { [$0.index, $0.before, $0.after] } == b.layers.map { [$0.index, $0.before, $0.after] }
        }
    }

    /// A compacted copy of `model` (evaluation mode; batch norm uses its running statistics).
    public static func compact(_ model: Sequential) -> (model: Sequential, summary: Summary) {
        model.setTraining(false)
        var layers = model.layers
        var summary = Summary(layers: [], parametersBefore: model.parameterCount(), parametersAfter: 0)
        for index in layers.indices {
            guard let (producer, units) = producerUnits(layers[index]) else { continue }
            // Layers between this one and the next consumer must be elementwise or channelwise.
            var next = index + 1
            var between: [Layer] = []
            while next < layers.count, producerUnits(layers[next]) == nil, isPassThrough(layers[next]) {
                between.append(layers[next])
                next += 1
            }
            guard next < layers.count, let consumerUnits = inputUnits(layers[next]), consumerUnits == units else { continue }
            let weight = producer.weight.value.scalars
            let perUnit = weight.count / units
            let zeroUnits = (0..<units).filter { k in (0..<perUnit).allSatisfy { weight[k * perUnit + $0] == 0 } }
            guard !zeroUnits.isEmpty else { continue }
            // The constant each unit emits through the layers in between.
            let constants = constantOutputs(producer, between, units)
            let foldable = layers[next] is Linear || (layers[next] as? Conv2D).map { $0.padding == (0, 0) } ?? false
            let removed = zeroUnits.filter { foldable || constants[$0] == 0 }
            guard !removed.isEmpty, removed.count < units else { continue }
            let kept = (0..<units).filter { !removed.contains($0) }
            layers[index] = shrinkOutputs(layers[index], keep: kept)
            for (offset, layer) in between.enumerated() { layers[index + 1 + offset] = shrinkChannels(layer, keep: kept) }
            layers[next] = shrinkInputs(layers[next], keep: kept, removed: removed, constants: constants)
            summary.layers.append((index, units, kept.count))
        }
        let compacted = Sequential(layers)
        summary.parametersAfter = compacted.parameterCount()
        return (compacted, summary)
    }

    static func producerUnits(_ layer: Layer) -> (Producer, Int)? {
        if let linear = layer as? Linear { return (Producer(weight: linear.weight, bias: linear.bias), linear.outFeatures) }
        if let conv = layer as? Conv2D { return (Producer(weight: conv.weight, bias: conv.bias), conv.weight.shape[0]) }
        return nil
    }

    static func inputUnits(_ layer: Layer) -> Int? {
        if let linear = layer as? Linear { return linear.inFeatures }
        if let conv = layer as? Conv2D { return conv.weight.shape[1] }
        return nil
    }

    struct Producer { let weight: Parameter; let bias: Parameter? }

    static func isPassThrough(_ layer: Layer) -> Bool {
        layer is ReLU || layer is GELU || layer is SiLU || layer is Sigmoid || layer is Tanh || layer is BatchNorm || layer is Dropout
    }

    /// act(…(bias)) per unit: what a unit with all-zero weights emits after the layers in between.
    static func constantOutputs(_ producer: Producer, _ between: [Layer], _ units: Int) -> [Float] {
        var x = producer.bias?.value ?? Tensor.zeros([units])
        for layer in between {
            if let bn = layer as? BatchNorm {
                let scale = bn.weight.value / (bn.runningVariance.value + bn.epsilon).squareRoot()
                x = (x - bn.runningMean.value) * scale + bn.bias.value
            } else if !(layer is Dropout) {
                x = withoutGradient { layer(x.reshaped([1, units])).reshaped([units]) }
            }
        }
        return x.scalars
    }

    static func shrinkOutputs(_ layer: Layer, keep: [Int]) -> Layer {
        var rng = RandomGenerator(seed: 0)
        if let linear = layer as? Linear {
            let out = Linear(inFeatures: linear.inFeatures, outFeatures: keep.count, bias: linear.bias != nil, using: &rng)
            out.weight.value = pick(linear.weight.value, rows: keep)
            if let bias = linear.bias { out.bias!.value = pick(bias.value, rows: keep) }
            return out
        }
        let conv = layer as! Conv2D
        let shape = conv.weight.shape
        let out = Conv2D(
            inChannels: shape[1], outChannels: keep.count, kernelSize: (shape[2], shape[3]), stride: conv.stride,
            padding: conv.padding, dilation: conv.dilation, bias: conv.bias != nil, using: &rng)
        out.weight.value = pick(conv.weight.value, rows: keep)
        if let bias = conv.bias { out.bias!.value = pick(bias.value, rows: keep) }
        out.algorithm = conv.algorithm
        return out
    }

    static func shrinkChannels(_ layer: Layer, keep: [Int]) -> Layer {
        guard let bn = layer as? BatchNorm else { return layer }
        let out: BatchNorm =
            bn is BatchNorm1D
            ? BatchNorm1D(features: keep.count, epsilon: bn.epsilon, momentum: bn.momentum)
            : BatchNorm2D(features: keep.count, epsilon: bn.epsilon, momentum: bn.momentum)
        for (source, target) in [
            (bn.weight, out.weight), (bn.bias, out.bias), (bn.runningMean, out.runningMean),
            (bn.runningVariance, out.runningVariance),
        ] {
            target.value = pick(source.value, rows: keep)
        }
        out.isTraining = false
        return out
    }

    /// Drops the removed inputs of the consumer, folding their constants into its bias.
    static func shrinkInputs(_ layer: Layer, keep: [Int], removed: [Int], constants: [Float]) -> Layer {
        var rng = RandomGenerator(seed: 0)
        if let linear = layer as? Linear {
            let weight = linear.weight.value
            let out = Linear(inFeatures: keep.count, outFeatures: linear.outFeatures, bias: true, using: &rng)
            out.weight.value = pick(weight.transposed().contiguous(), rows: keep).transposed().contiguous()
            var bias = linear.bias?.value.scalars ?? [Float](repeating: 0, count: linear.outFeatures)
            let w = weight.scalars
            for unit in removed where constants[unit] != 0 {
                for o in 0..<linear.outFeatures { bias[o] += w[o * linear.inFeatures + unit] * constants[unit] }
            }
            out.bias!.value = Tensor(bias)
            return out
        }
        let conv = layer as! Conv2D
        let shape = conv.weight.shape
        let out = Conv2D(
            inChannels: keep.count, outChannels: shape[0], kernelSize: (shape[2], shape[3]), stride: conv.stride,
            padding: conv.padding, dilation: conv.dilation, bias: true, using: &rng)
        out.weight.value = pick(conv.weight.value.transposed(0, 1).contiguous(), rows: keep).transposed(0, 1).contiguous()
        var bias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: shape[0])
        let w = conv.weight.value.scalars
        let taps = shape[2] * shape[3]
        for unit in removed where constants[unit] != 0 {
            for o in 0..<shape[0] {
                for t in 0..<taps { bias[o] += w[(o * shape[1] + unit) * taps + t] * constants[unit] }
            }
        }
        out.bias!.value = Tensor(bias)
        out.algorithm = conv.algorithm
        return out
    }

    /// Drops embedding dimensions that are zero in every row, with the matching input columns of the
    /// Linear layer that reads the embeddings; outputs are unchanged (a zero dimension contributes nothing).
    public static func compact(_ embedding: Embedding, consumer: Linear) -> (embedding: Embedding, consumer: Linear) {
        let table = embedding.weight.value
        let (count, dimension) = (table.shape[0], table.shape[1])
        checkArgument(
            consumer.inFeatures == dimension,
            "the consumer reads \(consumer.inFeatures) features, the embedding has \(dimension) dimensions")
        let values = table.scalars
        let kept = (0..<dimension).filter { d in (0..<count).contains { values[$0 * dimension + d] != 0 } }
        guard !kept.isEmpty, kept.count < dimension else { return (embedding, consumer) }
        var rng = RandomGenerator(seed: 0)
        let smaller = Embedding(count: count, dimension: kept.count, sparseGradient: embedding.sparseGradient, using: &rng)
        smaller.weight.value = pick(table.transposed().contiguous(), rows: kept).transposed().contiguous()
        let reader = Linear(inFeatures: kept.count, outFeatures: consumer.outFeatures, bias: consumer.bias != nil, using: &rng)
        reader.weight.value = pick(consumer.weight.value.transposed().contiguous(), rows: kept).transposed().contiguous()
        if let bias = consumer.bias { reader.bias!.value = bias.value }
        return (smaller, reader)
    }

    /// The slices `rows` of axis 0.
    static func pick(_ t: Tensor, rows: [Int]) -> Tensor {
        withoutGradient { (try? t.indexSelect(rows, alongAxis: 0)) ?? t }
    }
}
