import CoppiceKernels

/// An n-dimensional array of Float32 values: a value type over copy-on-write storage, with strided
/// views and an optional link into the autograd tape.
///
/// Shapes are row-major; `strides` count elements and may be 0 for broadcast (expanded) axes.
public struct Tensor: @unchecked Sendable {
    // Invariant for @unchecked Sendable: storage is copy-on-write (see `TensorStorage`); the grad node
    // is only touched while recording or running `backward()`, which are single-threaded.
    public internal(set) var shape: [Int]
    public internal(set) var strides: [Int]
    public internal(set) var offset: Int
    var storage: TensorStorage
    var node: GradNode?

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.node = nil
    }

    /// A contiguous tensor of uninitialized storage; callers must write every element.
    init(uninitializedShape shape: [Int]) {
        self.init(
            storage: TensorStorage(count: Tensor.elementCount(shape)), shape: shape,
            strides: Tensor.contiguousStrides(shape))
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        checkArgument(shape.allSatisfy { $0 >= 0 }, "shape \(shape) has a negative dimension")
        self.init(
            storage: TensorStorage(repeating: value, count: Tensor.elementCount(shape)), shape: shape,
            strides: Tensor.contiguousStrides(shape))
    }

    /// A tensor of `shape` holding `values` in row-major order.
    /// Throws `TensorError.shapeMismatch` when the count does not match the shape.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidShape(shape, reason: "negative dimension") }
        let count = Tensor.elementCount(shape)
        guard values.count == count else {
            throw .shapeMismatch("\(values.count) values cannot fill shape \(shape) (\(count) elements)")
        }
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A contiguous tensor of `shape` whose elements `body` writes, every one of them (the storage comes
    /// uninitialized from the buffer cache: no zero fill, no copy from an array).
    public init(shape: [Int], writingWith body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(uninitializedShape: shape)
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A rank-1 tensor of `values`.
    public init(_ values: [Float]) {
        self.init(uninitializedShape: [values.count])
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { storage.pointer.update(from: base, count: values.count) } }
    }

    /// A rank-0 tensor.
    public init(scalar: Float) {
        self.init(repeating: scalar, shape: [])
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    public var rank: Int { shape.count }
    public var count: Int { Tensor.elementCount(shape) }

    /// Whether the elements lie in row-major order with no gaps, starting at `offset`.
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The values in row-major order.
    public var scalars: [Float] {
        let c = contiguous()
        defer { withExtendedLifetime(c) {} }
        return Array(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        checkArgument(count == 1, "item needs a one-element tensor, got shape \(shape)")
        return storage.pointer[offset]
    }

    /// Reads the contiguous elements; `self` is made contiguous first if needed.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try withExtendedLifetime(c.storage) {
            try body(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
        }
    }

    /// Reads several tensors' contiguous elements at once (each made contiguous first if needed).
    public static func withUnsafeBufferPointers<R>(_ tensors: [Tensor], _ body: ([UnsafeBufferPointer<Float>]) throws -> R) rethrows -> R {
        let contiguous = tensors.map { $0.contiguous() }
        return try withExtendedLifetime(contiguous) {
            try body(contiguous.map { UnsafeBufferPointer(start: $0.storage.pointer + $0.offset, count: $0.count) })
        }
    }

    /// Writes the elements in place, copying the storage first if it is shared or not contiguous.
    /// The tensor keeps its autograd link: use it only on values outside the tape (parameters, buffers).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isContiguous || offset != 0 || storage.count != count || !isKnownUniquelyReferenced(&storage) {
            let node = self.node
            self = contiguousCopy()
            self.node = node
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A contiguous tensor with the same values (self when already contiguous).
    public func contiguous() -> Tensor {
        isContiguous ? self : contiguousCopy().withNode(node)
    }

    /// A fresh contiguous copy that shares nothing with `self` (and is not on the tape).
    func contiguousCopy() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        if isContiguous {
            Elementwise.copy(storage.pointer + offset, out.storage.pointer, count: count)
        } else {
            StridedCopy.copy(from: self, to: out.storage.pointer)
        }
        out.node = nil
        return out
    }

    func withNode(_ node: GradNode?) -> Tensor {
        var copy = self
        copy.node = node
        return copy
    }

    static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// `axis` with negative values counted from the end; traps on an axis out of range.
    func normalizedAxis(_ axis: Int, rank: Int? = nil) -> Int {
        let r = rank ?? self.rank
        let a = axis < 0 ? axis + r : axis
        checkArgument(a >= 0 && a < r, "axis \(axis) out of range for shape \(shape)")
        return a
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}
