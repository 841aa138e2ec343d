import CoppiceTensor

extension AlternateGrowthPruning {
    /// What a checkpoint holds of the growth besides the model's weights: the alive neurons of each
    /// hidden layer, which removed neurons have saved weights, and the generator of fresh regrowth.
    public struct Snapshot: Codable, Equatable, Sendable {
        public var alive: [[Int]]
        public var removed: [[Int]]
        public var rng: RandomGenerator
    }

    /// The snapshot and the removed neurons' weights as tensors (`growth<h>.rows|bias|columns`, one row
    /// per removed neuron in `removed` order).
    public func snapshot() -> (Snapshot, [String: Tensor]) {
        var tensors: [String: Tensor] = [:]
        var removed: [[Int]] = []
        for h in hidden.indices {
            let neurons = hidden[h].saved.keys.sorted()
            removed.append(neurons)
            guard let first = neurons.first.flatMap({ hidden[h].saved[$0] }) else { continue }
            let saved = neurons.map { hidden[h].saved[$0]! }
            tensors["growth\(h).rows"] = Tensor(saved.flatMap(\.row)).reshaped([neurons.count, first.row.count])
            tensors["growth\(h).bias"] = Tensor(saved.map(\.bias))
            tensors["growth\(h).columns"] = Tensor(saved.flatMap(\.column)).reshaped([neurons.count, first.column.count])
        }
        return (Snapshot(alive: hidden.map(\.alive), removed: removed, rng: rng), tensors)
    }

    /// Gives the hidden layers the snapshot's widths (the model's weights are loaded afterwards) and
    /// takes back the removed neurons' weights and the generator. Checks everything against the model,
    /// since a checkpoint is a file from outside.
    public func restore(_ snapshot: Snapshot, tensors: [String: Tensor]) throws(DLRMError) {
        guard snapshot.alive.count == hidden.count, snapshot.removed.count == hidden.count else {
            throw .invalidConfiguration("the checkpoint's growth state has \(snapshot.alive.count) hidden layers, the model \(hidden.count)")
        }
        for h in hidden.indices {
            let (alive, removed, width) = (snapshot.alive[h], snapshot.removed[h], hidden[h].width)
            guard !alive.isEmpty, zip(alive, alive.dropFirst()).allSatisfy({ $0 < $1 }), alive.allSatisfy({ (0..<width).contains($0) }),
                removed.allSatisfy({ (0..<width).contains($0) && !alive.contains($0) }), Set(removed).count == removed.count
            else {
                throw .invalidConfiguration(
                    "hidden layer \(h) of width \(width): alive neurons \(alive), removed \(removed) in the checkpoint are not a valid state")
            }
        }
        for h in hidden.indices {
            let count = snapshot.alive[h].count
            let (inLayer, outLayer) = layers(h)
            let (inputs, outputs) = (inLayer.weight.shape[1], outLayer.weight.shape[0])
            rebuild(
                h, rows: Array(repeating: Array(repeating: 0, count: inputs), count: count), bias: Array(repeating: 0, count: count),
                columns: Array(repeating: Array(repeating: 0, count: outputs), count: count))
            hidden[h].alive = snapshot.alive[h]
        }
        for h in hidden.indices {
            let neurons = snapshot.removed[h]
            hidden[h].saved = [:]
            guard !neurons.isEmpty else { continue }
            // Removed neurons were saved when their layer was pruned: their rows span the previous
            // layer's neurons as pruned then, their columns the next layer's in full.
            let chainedIn = h > 0 && hidden[h - 1].sequential === hidden[h].sequential && hidden[h - 1].outgoing == hidden[h].incoming
            let chainedOut = h + 1 < hidden.count && hidden[h + 1].sequential === hidden[h].sequential && hidden[h + 1].incoming == hidden[h].outgoing
            let rowLength = chainedIn ? snapshot.alive[h - 1].count : layers(h).0.weight.shape[1]
            let columnLength = chainedOut ? hidden[h + 1].width : layers(h).1.weight.shape[0]
            guard let rows = tensors["growth\(h).rows"], rows.shape == [neurons.count, rowLength],
                let bias = tensors["growth\(h).bias"], bias.shape == [neurons.count],
                let columns = tensors["growth\(h).columns"], columns.shape == [neurons.count, columnLength]
            else {
                throw .invalidConfiguration(
                    "the checkpoint lacks the removed weights of hidden layer \(h) or has them in other shapes (expected rows [\(neurons.count), \(rowLength)], columns [\(neurons.count), \(columnLength)])"
                )
            }
            let (r, b, c) = (rows.scalars, bias.scalars, columns.scalars)
            for (i, neuron) in neurons.enumerated() {
                hidden[h].saved[neuron] = (
                    Array(r[(i * rowLength)..<((i + 1) * rowLength)]), b[i], Array(c[(i * columnLength)..<((i + 1) * columnLength)])
                )
            }
        }
        rng = snapshot.rng
    }
}
