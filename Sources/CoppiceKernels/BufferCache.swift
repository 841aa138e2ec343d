import Synchronization

/// Keeps freed large buffers for reuse, keyed by exact byte size.
///
/// Fresh memory from the OS costs a page fault per 4 KiB on first touch; in the virtual machines this
/// project runs on that is about 5 µs a page, so a 16 MiB tensor allocated every step paid ~20 ms of
/// faults, more than the work done on it. Training loops allocate the same sizes every step, so an
/// exact-size cache removes nearly all of it. Small buffers go straight to malloc, which reuses them.
/// Buffers of 2 MiB and more are 2 MiB aligned and marked for transparent huge pages on Linux
/// (`HugePages`, as PyTorch's CPU allocator does): streaming kernels ran up to 2× faster on them
/// here, since the hardware prefetchers stop at every 4 KiB page boundary and TLB misses cost more in a VM.
public final class BufferCache: Sendable {
    public static let shared = BufferCache(limitBytes: 2 << 30)

    /// Buffers below this size are not cached.
    public static let minimumBytes = 64 << 10

    // Addresses, not pointers: the lock's state must be Sendable.
    private struct State {
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
        /// Large buffers in ordinary memory: huge pages could not be mapped for them.
        var ordinary: Set<UInt> = []
    }

    private let state: Mutex<State>
    private let limitBytes: Int

    /// `limitBytes`: the most memory kept idle; beyond it freed buffers go back to the system.
    public init(limitBytes: Int) {
        self.limitBytes = limitBytes
        state = Mutex(State())
    }

    /// A 64-byte aligned buffer of `byteCount` bytes (contents undefined).
    public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        if size >= Self.minimumBytes {
            let reused = state.withLock { state -> UInt? in
                guard let address = state.free[size]?.popLast() else { return nil }
                state.cachedBytes -= size
                return address
            }
            if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        }
        return systemAllocate(size)
    }

    /// Large buffers in huge pages; in ordinary memory (noted, to be freed as such) where they cannot be mapped.
    private func systemAllocate(_ size: Int) -> UnsafeMutableRawPointer {
        if size >= HugePages.size {
            if let mapped = HugePages.allocate(size) { return mapped }
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            state.withLock { _ = $0.ordinary.insert(UInt(bitPattern: pointer)) }
            return pointer
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    private func systemDeallocate(_ pointer: UnsafeMutableRawPointer, _ size: Int) {
        let ordinary = size < HugePages.size || state.withLock { $0.ordinary.remove(UInt(bitPattern: pointer)) != nil }
        if ordinary { pointer.deallocate() } else { HugePages.deallocate(pointer, size) }
    }

    /// Returns a buffer from `allocate(byteCount:)` with the same `byteCount`.
    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        if size >= Self.minimumBytes {
            let address = UInt(bitPattern: pointer)
            let kept = state.withLock { state -> Bool in
                guard state.cachedBytes + size <= limitBytes else { return false }
                state.free[size, default: []].append(address)
                state.cachedBytes += size
                return true
            }
            if kept { return }
        }
        systemDeallocate(pointer, size)
    }

    /// Frees every cached buffer.
    public func clear() {
        let buffers = state.withLock { state -> [(UInt, Int)] in
            defer { state.free = [:]; state.cachedBytes = 0 }
            return state.free.flatMap { size, addresses in addresses.map { ($0, size) } }
        }
        for (address, size) in buffers {
            if let pointer = UnsafeMutableRawPointer(bitPattern: address) { systemDeallocate(pointer, size) }
        }
    }
}
