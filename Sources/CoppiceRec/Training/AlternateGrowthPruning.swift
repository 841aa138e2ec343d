import CoppiceNN
import CoppiceTensor

/// Alternate model growth and pruning (Du et al. 2021; papers.md §2.3, a reconstruction): training
/// alternates dense and sparse phases. Entering a sparse phase removes the lowest-scoring neurons of
/// every hidden layer of the bottom and top MLPs *physically* (the Linear layers become smaller, so
/// the GEMMs shrink), keeping input and output widths; entering a dense phase regrows them, either
/// restoring their previous weights or with fresh incoming and zero outgoing weights. The score of a
/// neuron is the L2 norm of its incoming weights times that of its outgoing weights.
public final class AlternateGrowthPruning {
    public enum Regrowth: String, Codable, Sendable, CaseIterable { case restore, fresh }

    /// One hidden layer's neurons: which original positions are alive now, and the weights of those
    /// that were removed (for `restore`).
    struct Hidden {
        let sequential: Sequential
        let incoming: Int, outgoing: Int  // layer indices in the Sequential
        let width: Int
        var alive: [Int]
        var saved: [Int: (row: [Float], bias: Float, column: [Float])] = [:]
    }

    public let model: DLRM
    public let regrowth: Regrowth
    var hidden: [Hidden] = []
    var rng: RandomGenerator

    public init(model: DLRM, regrowth: Regrowth = .restore, seed: UInt64 = 0) {
        self.model = model
        self.regrowth = regrowth
        rng = RandomGenerator(seed: seed)
        for sequential in [model.bottom, model.top] {
            let linear = sequential.layers.indices.filter { sequential.layers[$0] is Linear }
            for (a, b) in zip(linear, linear.dropFirst()) {
                let width = (sequential.layers[a] as! Linear).weight.shape[0]
                hidden.append(Hidden(sequential: sequential, incoming: a, outgoing: b, width: width, alive: Array(0..<width)))
            }
        }
    }

    /// Current widths of the hidden layers (bottom then top).
    public var widths: [Int] { hidden.map(\.alive.count) }

    /// Removes `fraction` of every hidden layer's original neurons (lowest scores first); layers keep
    /// at least one neuron. Call from a dense state.
    public func prune(fraction: Double) throws(DLRMError) {
        guard (0..<1).contains(fraction) else { throw .invalidConfiguration("prune fraction must be in [0, 1), got \(fraction)") }
        for h in hidden.indices {
            let (inLayer, outLayer) = layers(h)
            let w = inLayer.weight.value.scalars, v = outLayer.weight.value.scalars
            let b = inLayer.bias?.value.scalars
            let (rows, columns) = (inLayer.weight.shape[1], outLayer.weight.shape[0])
            let current = hidden[h].alive.count
            let scores = (0..<current).map { j -> Double in
                let incoming = (0..<rows).reduce(0.0) { $0 + Double(w[j * rows + $1] * w[j * rows + $1]) }
                let outgoing = (0..<columns).reduce(0.0) { $0 + Double(v[$1 * current + j] * v[$1 * current + j]) }
                return (incoming * outgoing).squareRoot()
            }
            let remove = min(current - 1, Int((Double(hidden[h].width) * fraction).rounded()))
            let dropped = Set((0..<current).sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }.prefix(remove))
            for j in dropped {
                hidden[h].saved[hidden[h].alive[j]] = (
                    Array(w[(j * rows)..<((j + 1) * rows)]), b?[j] ?? 0,
                    (0..<columns).map { v[$0 * current + j] }
                )
            }
            let keep = (0..<current).filter { !dropped.contains($0) }
            hidden[h].alive = keep.map { hidden[h].alive[$0] }
            rebuild(
                h, rows: keep.map { Array(w[($0 * rows)..<(($0 + 1) * rows)]) }, bias: keep.map { b?[$0] ?? 0 },
                columns: keep.map { j in (0..<columns).map { v[$0 * current + j] } })
        }
    }

    /// Regrows every hidden layer to its full width, in the original neuron order. Later layers go
    /// first, so the rows saved when they were pruned still match their inputs' widths.
    public func regrow() {
        for h in hidden.indices.reversed() {
            let (inLayer, outLayer) = layers(h)
            let w = inLayer.weight.value.scalars, v = outLayer.weight.value.scalars
            let b = inLayer.bias?.value.scalars
            let (rows, columns, current) = (inLayer.weight.shape[1], outLayer.weight.shape[0], hidden[h].alive.count)
            var position = [Int: Int]()
            for (j, original) in hidden[h].alive.enumerated() { position[original] = j }
            var newRows: [[Float]] = [], newBias: [Float] = [], newColumns: [[Float]] = []
            let bound = (1 / Float(rows)).squareRoot()
            for original in 0..<hidden[h].width {
                if let j = position[original] {
                    newRows.append(Array(w[(j * rows)..<((j + 1) * rows)])); newBias.append(b?[j] ?? 0)
                    newColumns.append((0..<columns).map { v[$0 * current + j] })
                } else if regrowth == .restore, let saved = hidden[h].saved[original] {
                    newRows.append(saved.row); newBias.append(saved.bias); newColumns.append(saved.column)
                } else {
                    newRows.append((0..<rows).map { _ in (rng.nextUniform() * 2 - 1) * bound }); newBias.append(0)
                    newColumns.append([Float](repeating: 0, count: columns))
                }
            }
            hidden[h].alive = Array(0..<hidden[h].width)
            hidden[h].saved = [:]
            rebuild(h, rows: newRows, bias: newBias, columns: newColumns)
        }
    }

    /// Multiply-adds of one example's forward pass through the MLPs and the interaction at the
    /// current widths (a training step costs about 3× this per example: forward, and two GEMMs back).
    public var forwardMultiplyAdds: Int {
        let mlp = [model.bottom, model.top].flatMap { $0.layers.compactMap { $0 as? Linear } }.reduce(0) { $0 + $1.weight.value.count }
        let n = model.configuration.tableSizes.count + 1
        return mlp + n * n * model.configuration.embeddingDimension
    }

    func layers(_ h: Int) -> (Linear, Linear) {
        (hidden[h].sequential.layers[hidden[h].incoming] as! Linear, hidden[h].sequential.layers[hidden[h].outgoing] as! Linear)
    }

    /// New Linear layers of the given neuron rows (incoming weights, bias) and columns (outgoing).
    func rebuild(_ h: Int, rows: [[Float]], bias: [Float], columns: [[Float]]) {
        let (inLayer, outLayer) = layers(h)
        let width = rows.count, inputs = inLayer.weight.shape[1], outputs = outLayer.weight.shape[0]
        let newIn = Linear(inFeatures: inputs, outFeatures: width, bias: inLayer.bias != nil, using: &rng)
        newIn.weight.value = Tensor(rows.flatMap { $0 }).reshaped([width, inputs])
        if inLayer.bias != nil { newIn.bias?.value = Tensor(bias) }
        let newOut = Linear(inFeatures: width, outFeatures: outputs, bias: outLayer.bias != nil, using: &rng)
        newOut.weight.value = Tensor((0..<outputs).flatMap { o in columns.map { $0[o] } }).reshaped([outputs, width])
        if let bias = outLayer.bias { newOut.bias?.value = bias.value }
        hidden[h].sequential.replaceLayer(at: hidden[h].incoming, with: newIn)
        hidden[h].sequential.replaceLayer(at: hidden[h].outgoing, with: newOut)
    }
}
