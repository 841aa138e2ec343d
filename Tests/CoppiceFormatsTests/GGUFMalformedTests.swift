import CoppiceFormats
import Foundation
import Testing

/// GGUF files from strangers: a valid file built byte by byte, then variants of it that break one
/// rule each (sizes of 2^31, 2^32, 2^63 and 2^64 − 1, unknown types, offsets past the end or
/// misaligned, truncation at every byte). Each must be refused with a `FormatError` naming the file,
/// never a trap, an over-read or an allocation sized from the header.
@Suite struct GGUFMalformedTests {
    /// The parts of a GGUF file, each editable before `bytes` lays them out.
    struct Layout {
        var magic: UInt32 = 0x4655_4747
        var version: UInt32 = 3
        var tensorCount: UInt64?
        var metadataCount: UInt64?
        var metadata: [(key: [UInt8], type: UInt32, value: [UInt8])] = [
            (Array("general.architecture".utf8), 8, string("llama")),
            (Array("general.alignment".utf8), 4, le(UInt32(32))),
        ]
        var tensors: [(name: [UInt8], ne: [UInt64], type: UInt32, offset: UInt64)] = [
            (Array("a".utf8), [32, 2], 0, 0), (Array("b".utf8), [32], 8, 256),
        ]
        var dataBytes = 256 + 34
        /// Length fields written in place of the true ones, by metadata entry or tensor index.
        var dimensionCounts: [Int: UInt32] = [:], keyLengths: [Int: UInt64] = [:], nameLengths: [Int: UInt64] = [:]

        var bytes: Data {
            var out = Data()
            out.append(contentsOf: le(magic) + le(version))
            out.append(contentsOf: le(tensorCount ?? UInt64(tensors.count)) + le(metadataCount ?? UInt64(metadata.count)))
            for (index, entry) in metadata.enumerated() {
                out.append(contentsOf: le(keyLengths[index] ?? UInt64(entry.key.count)) + entry.key + le(entry.type) + entry.value)
            }
            for (index, tensor) in tensors.enumerated() {
                out.append(contentsOf: le(nameLengths[index] ?? UInt64(tensor.name.count)) + tensor.name)
                out.append(contentsOf: le(dimensionCounts[index] ?? UInt32(tensor.ne.count)))
                for n in tensor.ne { out.append(contentsOf: le(n)) }
                out.append(contentsOf: le(tensor.type) + le(tensor.offset))
            }
            out.append(Data(count: (32 - out.count % 32) % 32))
            out.append(Data((0..<dataBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
            return out
        }
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func string(_ text: String) -> [UInt8] { le(UInt64(text.utf8.count)) + Array(text.utf8) }
    func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { Self.le(value) }

    let directory = NSTemporaryDirectory() + "gguf-malformed-\(UUID().uuidString)"

    /// What reading `bytes` as a GGUF file threw ("accepted" when nothing).
    func outcome(_ bytes: Data) -> String {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/variant.gguf"
        #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        do {
            let file = try GGUFFile(path: path)
            for name in file.tensorOrder { _ = try file.tensor(name) }
            return "accepted"
        } catch {
            #expect(error.description.hasPrefix(path + ": "), "the error names the file: \(error)")
            return error.description
        }
    }

    static let sizes: [UInt64] = [1 << 31, 1 << 32, 1 << 63, .max]

    @Test func theBaseFileIsValid() {
        #expect(outcome(Layout().bytes) == "accepted")
    }

    @Test func everyTruncationIsRefused() {
        let whole = Layout().bytes
        for length in 0..<whole.count {
            let result = outcome(whole.prefix(length))
            #expect(result != "accepted", "truncated to \(length) of \(whole.count) bytes")
        }
    }

    /// Named variants, each breaking one rule; the error must mention `expected`.
    static var variants: [(name: String, layout: Layout, expected: String)] {
        var list: [(String, Layout, String)] = []
        func variant(_ name: String, _ expected: String, _ edit: (inout Layout) -> Void) {
            var layout = Layout()
            edit(&layout)
            list.append((name, layout, expected))
        }
        variant("magic", "no GGUF magic") { $0.magic = 0x4655_4748 }
        for version: UInt32 in [0, 1, 4, .max] { variant("version \(version)", "GGUF version") { $0.version = version } }
        for size in sizes {
            variant("tensor count \(size)", "larger than the file allows") { $0.tensorCount = size }
            variant("metadata count \(size)", "larger than the file allows") { $0.metadataCount = size }
            variant("key length \(size)", "larger than the file allows") { $0.keyLengths[1] = size }
            variant("tensor name length \(size)", "larger than the file allows") { $0.nameLengths[0] = size }
            variant("string value length \(size)", "larger than the file allows") { $0.metadata[0].value = le(size) + Array("llama".utf8) }
            variant("array length \(size)", "larger than the file allows") { $0.metadata[1] = (Array("k".utf8), 9, le(UInt32(4)) + le(size)) }
            variant("dimension \(size)", "larger than") { $0.tensors[0].ne[1] = size }
            variant("offset \(size)", "larger than the file allows") { $0.tensors[1].offset = size }
        }
        variant("string value past the end", "runs past the end") { $0.metadata[0].value = le(UInt64(600)) + Array("llama".utf8) }
        variant("tensor name past the end", "runs past the end") { $0.nameLengths[1] = 600 }
        variant("dimensions whose product is past the file", "is larger than the file") { $0.tensors[0].ne = [1000, 1000, 1000] }
        variant("array longer than the bytes left", "runs past the end") { $0.metadata[1] = (Array("k".utf8), 9, le(UInt32(0)) + le(UInt64(1000))) }
        for type: UInt32 in [13, 99, .max] { variant("metadata type \(type)", "metadata value type") { $0.metadata[1].type = type } }
        variant("array of an unknown type", "metadata value type") {
            $0.metadata[1] = (Array("k".utf8), 9, le(UInt32(13)) + le(UInt64(1)) + le(UInt32(0)))
        }
        variant("array of arrays nested past any model", "nested more than 8 deep") { layout in
            var value: [UInt8] = []
            for _ in 0..<100_000 { value += le(UInt32(9)) + le(UInt64(1)) }
            layout.metadata[1] = (Array("k".utf8), 9, value + le(UInt32(4)) + le(UInt64(0)))
        }
        variant("repeated key", "appears more than once") { $0.metadata[1].key = $0.metadata[0].key }
        variant("repeated tensor name", "appears more than once") { $0.tensors[1].name = $0.tensors[0].name }
        for count: UInt32 in [0, 5, .max] { variant("\(count) dimensions", "dimensions") { $0.dimensionCounts[0] = count } }
        for type: UInt32 in [10, 99, .max] { variant("ggml type \(type)", "ggml type \(type)") { $0.tensors[0].type = type } }
        variant("Q8_0 rows not whole blocks", "whole blocks of 32") { $0.tensors[1].ne = [33] }
        variant("misaligned offset", "not a multiple of the alignment 32") { $0.tensors[1].offset = 4 }
        variant("offset past the end", "runs past the end") { $0.tensors[1].offset = 512 }
        variant("data one byte short", "runs past the end") { $0.dataBytes -= 1 }
        for alignment: [UInt8] in [le(UInt32(0)), le(UInt32(3)), le(UInt32(1 << 31))] {
            variant("alignment \(alignment)", "general.alignment") { $0.metadata[1].value = alignment }
        }
        variant("alignment as a string", "general.alignment") { $0.metadata[1] = (Array("general.alignment".utf8), 8, string("32")) }
        variant("negative alignment", "general.alignment") { $0.metadata[1] = (Array("general.alignment".utf8), 5, le(Int32(-32))) }
        return list
    }

    @Test func eachVariantIsRefusedWithItsReason() {
        let variants = Self.variants
        #expect(variants.count >= 40)
        for (name, layout, expected) in variants {
            let result = outcome(layout.bytes)
            #expect(result.contains(expected), "\(name): \(result)")
        }
    }
}
