import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A Float scratch buffer from the shared cache, returned when it goes out of scope.
public final class ScratchBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = BufferCache.shared.allocate(byteCount: count * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { BufferCache.shared.deallocate(UnsafeMutableRawPointer(pointer), byteCount: count * MemoryLayout<Float>.stride) }
}
