import CoppiceNN
import CoppiceTensor

/// Updates parameters from their gradients. Every optimizer honours `Parameter.mask`: after each step
/// masked entries are exactly zero, and so is their optimizer state, so momentum cannot revive them.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// One update from the gradients accumulated since the last `zeroGrad()`.
    func step()
}

extension Optimizer {
    public func zeroGrad() { for parameter in parameters { parameter.zeroGrad() } }
}

/// A per-parameter state buffer the size of the parameter, allocated on first use.
final class StateBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: count)
    }
    deinit { pointer.deallocate() }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Runs `body(weights, gradient, mask)` over a parameter's dense buffers, then zeroes masked weights
/// and the masked entries of `states`.
func withDenseUpdate(_ parameter: Parameter, states: [StateBuffer],
                     _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void) {
    guard let grad = parameter.grad else { return }
    grad.withUnsafeBufferPointer { g in
        parameter.update { w in body(w.baseAddress!, g.baseAddress!, w.count) }
    }
    applyMask(parameter, states: states)
}

func applyMask(_ parameter: Parameter, states: [StateBuffer]) {
    guard let mask = parameter.mask else { return }
    mask.withUnsafeBufferPointer { m in
        parameter.update { w in
            for i in 0..<w.count where m[i] == 0 {
                w[i] = 0
                for state in states { state.pointer[i] = 0 }
            }
        }
    }
}

/// Rows of a parameter's row-sparse gradient, coalesced, with a mask applied to just those rows after `body`.
func withSparseUpdate(_ parameter: Parameter, states: [StateBuffer],
                      _ body: (_ weights: UnsafeMutablePointer<Float>, _ rows: [Int], _ values: [Float], _ dimension: Int) -> Void) {
    guard let sparse = parameter.sparseGrad else { return }
    let (rows, values) = sparse.coalesced()
    parameter.update { w in body(w.baseAddress!, rows, values, sparse.dimension) }
    guard let mask = parameter.mask else { return }
    let d = sparse.dimension
    mask.withUnsafeBufferPointer { m in
        parameter.update { w in
            for row in rows {
                for i in (row * d)..<(row * d + d) where m[i] == 0 {
                    w[i] = 0
                    for state in states { state.pointer[i] = 0 }
                }
            }
        }
    }
}
