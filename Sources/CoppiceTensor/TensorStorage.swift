import CoppiceKernels

/// A fixed-size, 64-byte aligned Float32 buffer shared by tensors until one of them writes.
/// Large buffers come from and return to `BufferCache.shared`.
final class TensorStorage: @unchecked Sendable {
    // Invariant for @unchecked Sendable: a storage is written only through `Tensor`'s mutating
    // accessors, which first make it uniquely referenced (copy-on-write); shared storage is read-only.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = BufferCache.shared.allocate(byteCount: count * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: max(1, count))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(count: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { BufferCache.shared.deallocate(UnsafeMutableRawPointer(pointer), byteCount: count * MemoryLayout<Float>.stride) }
}
