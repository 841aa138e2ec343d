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
        guard array.count >= HugePages.size else {
            (self.array, region, owner) = (array, nil, nil)
            return
        }
        self = array.withUnsafeBytes { WeightBytes(copying: $0) }
    }

    /// A copy of `bytes` (a mapped file's, for `--no-mmap`).
    public init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    /// `count` bytes of its own, every one written by `body` (a rearranged copy, written once).
    public init(count: Int, writing body: (UnsafeMutableRawBufferPointer) -> Void) {
        guard count >= HugePages.size else {
            let array = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                body(UnsafeMutableRawBufferPointer(out))
                initialized = count
            }
            (self.array, region, owner) = (array, nil, nil)
            return
        }
        let block = HugePageBlock(count: count)
        body(UnsafeMutableRawBufferPointer(start: block.base, count: count))
        (array, region, owner) = ([], UnsafeRawBufferPointer(start: block.base, count: count), block)
    }

    /// `region` must stay valid while `owner` lives.
    public init(region: UnsafeRawBufferPointer, owner: AnyObject) { (array, self.region, self.owner) = ([], region, owner) }

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

    init(count: Int) {
        size = count
        base = HugePages.allocate(size)
    }

    deinit { HugePages.deallocate(base, size) }
}
