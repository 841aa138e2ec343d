/// A fixed-size, 64-byte aligned Float32 buffer shared by tensors until one of them writes.
public final class TensorStorage: @unchecked Sendable {
    // Invariant for @unchecked Sendable: a storage is written only through `Tensor`'s mutating
    // accessors, which first make it uniquely referenced (copy-on-write); shared storage is read-only.
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(count: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
