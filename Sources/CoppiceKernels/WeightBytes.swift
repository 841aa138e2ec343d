#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A weight matrix's bytes: a copy of its own (in huge pages from 2 MiB: a 1B model's decode streams
/// 2.5 GB a token, so every 4 KiB page boundary and TLB miss counts), or a region of a memory-mapped
/// file that `owner` keeps mapped, used in place (llama.cpp's mmap loading): no copy at start-up,
/// pages read from the page cache when first touched, and shared with other processes on the same file.
public struct WeightBytes: @unchecked Sendable {
    private let array: [UInt8]
    private let region: UnsafeRawBufferPointer?
    private let owner: AnyObject?

    public init(_ array: [UInt8]) {
        // The array itself where it is small or huge pages cannot be mapped.
        let copy = array.count >= HugePages.size ? array.withUnsafeBytes { try? WeightBytes(copying: $0) } : nil
        self = copy ?? WeightBytes(array: array, region: nil, owner: nil)
    }

    private init(array: [UInt8], region: UnsafeRawBufferPointer?, owner: AnyObject?) {
        (self.array, self.region, self.owner) = (array, region, owner)
    }

    /// A copy of `bytes` (a mapped file's, for `--no-mmap`); throws where the system has no memory for it.
    public init(copying bytes: UnsafeRawBufferPointer) throws {
        try self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    /// `count` bytes of its own, every one written by `body` (a rearranged copy, written once), in huge
    /// pages from 2 MiB; throws `WeightMemoryError` where the system cannot map them.
    public init(count: Int, writing body: (UnsafeMutableRawBufferPointer) -> Void) throws {
        guard count >= HugePages.size else {
            self.init(ordinary: count, writing: body)
            return
        }
        guard let block = HugePageBlock(count: count) else { throw WeightMemoryError(bytes: count, code: errno) }
        body(UnsafeMutableRawBufferPointer(start: block.base, count: count))
        self.init(array: [], region: UnsafeRawBufferPointer(start: block.base, count: count), owner: block)
    }

    /// As `init(count:writing:)`, in an ordinary array where huge pages cannot be mapped (for callers that
    /// do not throw; the array's allocation fails as any Swift allocation does).
    init(preferringHugePages count: Int, writing body: (UnsafeMutableRawBufferPointer) -> Void) {
        // `body` runs once: the throwing initializer throws before it writes anything.
        if let bytes = try? WeightBytes(count: count, writing: body) { self = bytes } else { self.init(ordinary: count, writing: body) }
    }

    private init(ordinary count: Int, writing body: (UnsafeMutableRawBufferPointer) -> Void) {
        let array = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            body(UnsafeMutableRawBufferPointer(out))
            initialized = count
        }
        self.init(array: array, region: nil, owner: nil)
    }

    /// `region` must stay valid while `owner` lives.
    public init(region: UnsafeRawBufferPointer, owner: AnyObject) { self.init(array: [], region: region, owner: owner) }

    /// The bytes are a mapped file's, not a copy.
    public var isMapped: Bool { region != nil && !(owner is HugePageBlock) }
    public var count: Int { region?.count ?? array.count }
    public var isEmpty: Bool { count == 0 }

    /// After the bytes were copied out (rearranged for the kernels), tells the kernel their mapped
    /// pages are not needed: they leave the process's resident set, and are read from the file again
    /// only if touched. Arrays are left alone.
    public func dropMappedPages() {
        guard isMapped, let region, let base = region.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page, end = (Int(bitPattern: base) + region.count) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let region { return try body(region) }
        return try array.withUnsafeBytes(body)
    }
}

/// Weights' memory of their own, 2 MiB aligned and marked for transparent huge pages.
final class HugePageBlock {
    let base: UnsafeMutableRawPointer
    let size: Int

    init?(count: Int) {
        guard let base = HugePages.allocate(count) else { return nil }
        (self.base, size) = (base, count)
    }

    deinit { HugePages.deallocate(base, size) }
}

/// The system had no memory for a weight matrix's own copy (a model too large for this machine's
/// memory, e.g. with `--no-mmap`).
public struct WeightMemoryError: Error, CustomStringConvertible {
    public let bytes: Int
    /// The failed `mmap`'s errno.
    public let code: Int32
    public var description: String {
        "out of memory: \(bytes) bytes for a copy of a weight matrix could not be mapped (errno \(code)); "
            + "load the model mapped from its file (without --no-mmap) or free memory"
    }
}
