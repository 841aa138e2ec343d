#if canImport(Glibc)
import Glibc
#endif

/// Memory of 2 MiB and more, 2 MiB aligned and marked for transparent huge pages on Linux (as PyTorch's
/// CPU allocator does). Mapped fresh from the kernel, not taken from malloc: below its mmap threshold
/// (which grows to 32 MiB as blocks are freed) malloc hands back heap memory that may already be
/// backed by 4 KiB pages, which `madvise` does not replace.
enum HugePages {
    static let size = 2 << 20

    /// `byteCount` (at least `size`) bytes, zero on Linux; nil where the system cannot map them (callers
    /// throw a clear error, or fall back to ordinary memory).
    static func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer? {
        precondition(byteCount >= size)
        #if canImport(Glibc)
        // Map one huge page more, then unmap the ends around the first aligned stretch.
        let length = rounded(byteCount), mapped = length + size
        guard let raw = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else { return nil }
        let start = Int(bitPattern: raw), aligned = (start + size - 1) / size * size
        if aligned > start { munmap(raw, aligned - start) }
        if start + mapped > aligned + length { munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), start + mapped - aligned - length) }
        let base = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(base, length, MADV_HUGEPAGE)
        return base
        #else
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: size)
        #endif
    }

    /// Returns memory from `allocate(_:)` with the same `byteCount`.
    static func deallocate(_ base: UnsafeMutableRawPointer, _ byteCount: Int) {
        #if canImport(Glibc)
        munmap(base, rounded(byteCount))
        #else
        base.deallocate()
        #endif
    }

    private static func rounded(_ byteCount: Int) -> Int { (byteCount + size - 1) / size * size }
}
