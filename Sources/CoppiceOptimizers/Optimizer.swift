import CoppiceNN
import CoppiceTensor

/// Updates parameters from their gradients. Every optimizer honours `Parameter.mask`: after each step
/// masked entries are exactly zero, and so is their optimizer state, so momentum cannot revive them.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// One update from the gradients accumulated since the last `zeroGrad()`.
    func step()
    /// Everything a resumed run needs to continue exactly (buffers keyed by parameter position).
    func stateTensors() -> [String: Tensor]
    /// Restores `stateTensors()`; throws naming the entry that does not fit.
    func loadState(_ state: [String: Tensor]) throws(OptimizerStateError)
}

/// A saved optimizer state that does not match the optimizer it is loaded into.
public struct OptimizerStateError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
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

    var tensor: Tensor { Tensor(values) }

    func load(_ tensor: Tensor, key: String) throws(OptimizerStateError) {
        guard tensor.count == count else {
            throw OptimizerStateError("optimizer state '\(key)' has \(tensor.count) values, the parameter has \(count)")
        }
        tensor.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}

/// Saves per-parameter buffers as "<prefix>.<position>".
func saveBuffers(_ parameters: [Parameter], _ buffers: [ObjectIdentifier: StateBuffer], prefix: String) -> [String: Tensor] {
    var state: [String: Tensor] = [:]
    for (position, parameter) in parameters.enumerated() {
        if let buffer = buffers[ObjectIdentifier(parameter)] { state["\(prefix).\(position)"] = buffer.tensor }
    }
    return state
}

/// Restores buffers saved by `saveBuffers`, creating them as needed.
func loadBuffers(
    _ state: [String: Tensor], _ parameters: [Parameter], _ buffers: inout [ObjectIdentifier: StateBuffer],
    prefix: String
) throws(OptimizerStateError) {
    for key in state.keys where key.hasPrefix(prefix + ".") {
        guard let position = Int(key.dropFirst(prefix.count + 1)), parameters.indices.contains(position) else {
            throw OptimizerStateError("optimizer state '\(key)' names no parameter (there are \(parameters.count))")
        }
        let parameter = parameters[position]
        let buffer = buffers[ObjectIdentifier(parameter)] ?? StateBuffer(count: parameter.tensor.count)
        try buffer.load(state[key]!, key: key)
        buffers[ObjectIdentifier(parameter)] = buffer
    }
}

/// Runs `body(weights, gradient, mask)` over a parameter's dense buffers, then zeroes masked weights
/// and the masked entries of `states`.
func withDenseUpdate(
    _ parameter: Parameter, states: [StateBuffer],
    _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
) {
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
func withSparseUpdate(
    _ parameter: Parameter, states: [StateBuffer],
    _ body: (_ weights: UnsafeMutablePointer<Float>, _ rows: [Int], _ values: [Float], _ dimension: Int) -> Void
) {
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
