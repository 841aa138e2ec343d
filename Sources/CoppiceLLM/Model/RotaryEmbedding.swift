import CoppiceTensor
import Foundation

/// Rotary position embedding in the Hugging Face layout ("rotate half": dimension i pairs with
/// i + d/2), with the angles of `LlamaConfiguration.inverseFrequencies`. Meta's checkpoints pair
/// interleaved dimensions; their q/k rows are permuted into this layout when loaded.
public struct RotaryEmbedding: Sendable {
    public let headDimension: Int
    /// cos and sin of position p, frequency i at [p · d/2 + i].
    public let cosines: [Float], sines: [Float]
    public let positions: Int

    public init(configuration: LlamaConfiguration, positions: Int) {
        let frequencies = configuration.inverseFrequencies
        headDimension = configuration.headDimension
        self.positions = positions
        var c = [Float](), s = [Float]()
        c.reserveCapacity(positions * frequencies.count)
        s.reserveCapacity(positions * frequencies.count)
        for p in 0..<positions {
            for f in frequencies {
                // The angle in double precision, as the reference builds it in float32 from exact products.
                let angle = Double(Float(Double(p) * f))
                c.append(Float(cos(angle)))
                s.append(Float(sin(angle)))
            }
        }
        cosines = c
        sines = s
    }

    /// Rotates every head vector of `x` [..., T, d] whose sequence position is `start + t`;
    /// differentiable (the pullback rotates back).
    public func callAsFunction(_ x: Tensor, start: Int = 0) -> Tensor {
        let d = headDimension, half = d / 2
        let sequence = x.shape[x.rank - 2]
        precondition(x.shape.last == d && start + sequence <= positions, "rotary embedding of \(x.shape) at \(start) with \(positions) positions")
        let (cosines, sines) = (self.cosines, self.sines)
        func rotate(_ input: Tensor, inverse: Bool) -> Tensor {
            var values = input.contiguous().scalars
            let rows = values.count / d
            values.withUnsafeMutableBufferPointer { v in
                for row in 0..<rows {
                    let base = (start + row % sequence) * half, o = row * d
                    for i in 0..<half {
                        let c = cosines[base + i], s = inverse ? -sines[base + i] : sines[base + i]
                        let (a, b) = (v[o + i], v[o + i + half])
                        v[o + i] = a * c - b * s
                        v[o + i + half] = b * c + a * s
                    }
                }
            }
            return Tensor(values).reshaped(input.shape)
        }
        return Tensor.differentiable(rotate(x, inverse: false), inputs: [x]) { g in [rotate(g, inverse: true)] }
    }
}
