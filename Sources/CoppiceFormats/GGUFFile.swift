import CoppiceKernels
import CoppiceTensor
import Foundation

/// GGUF version 3 (llama.cpp's file format): a header, typed metadata key/values, tensor infos,
/// then the tensor data, each tensor at an offset aligned to `general.alignment` (32). Dimensions
/// are listed innermost first (a [rows, columns] matrix is stored as ne = [columns, rows]).
/// Tensors of type F32, F16, BF16, Q8_0, Q4_0 and Q4_1 are read (as Float32) and written, Q5_0, Q5_1,
/// Q4_K, Q5_K and Q6_K read; the reader checks every size and offset against the file before touching
/// the data.
public struct GGUFFile {
    public struct TensorInfo: Sendable {
        public var name: String
        /// Row-major shape (outermost first), the reverse of GGUF's ne.
        public var shape: [Int]
        public var type: GGUFTensorType
        public var offset: Int
    }

    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    public let tensors: [String: TensorInfo]
    public let tensorOrder: [String]
    /// The mapped file; `data` views it without a copy.
    private let file: MappedFile
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws(FormatError) {
        file = try MappedFile(path: path)
        let data =
            file.bytes.isEmpty
            ? Data() : Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: file.bytes.baseAddress!), count: file.bytes.count, deallocator: .none)
        self.path = path
        self.data = data
        var reader = GGUFReader(data: data, path: path)
        guard try reader.read(UInt32.self) == 0x4655_4747 else { throw .malformed(path: path, reason: "not a GGUF file (no GGUF magic)") }
        version = try reader.read(UInt32.self)
        guard version == 3 || version == 2 else { throw .malformed(path: path, reason: "GGUF version \(version); versions 2 and 3 are read") }
        let tensorCount = try reader.count(), metadataCount = try reader.count()
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<metadataCount {
            let key = try reader.string()
            guard metadata[key] == nil else { throw .malformed(path: path, reason: "metadata key '\(key)' appears more than once") }
            metadata[key] = try reader.value(type: try reader.read(UInt32.self))
        }
        var infos: [String: TensorInfo] = [:], order: [String] = []
        for _ in 0..<tensorCount {
            let name = try reader.string()
            guard infos[name] == nil else { throw .malformed(path: path, reason: "tensor name '\(name)' appears more than once") }
            let dimensions = Int(try reader.read(UInt32.self))
            guard (1...4).contains(dimensions) else { throw .malformed(path: path, reason: "tensor \(name) has \(dimensions) dimensions") }
            var ne: [Int] = []
            for _ in 0..<dimensions { ne.append(try reader.count()) }
            let code = try reader.read(UInt32.self)
            guard let type = GGUFTensorType(rawValue: code) else {
                throw .malformed(
                    path: path,
                    reason:
                        "tensor \(name) has ggml type \(code); \(GGUFTensorType.allCases.map { "\($0.name.uppercased()) (\($0.rawValue))" }.joined(separator: ", ")) are read"
                )
            }
            let offset = try reader.count()
            var elements = 1
            for n in ne {
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, product <= data.count * 8 else {
                    throw .malformed(path: path, reason: "tensor \(name) of shape \(ne) is larger than the file")
                }
                elements = product
            }
            if ne[0] % type.blockElements != 0 {
                throw .malformed(path: path, reason: "tensor \(name) (\(type.name)): rows of \(ne[0]) are not whole blocks of \(type.blockElements)")
            }
            infos[name] = TensorInfo(name: name, shape: ne.reversed(), type: type, offset: offset)
            order.append(name)
        }
        // As ggml's reader: a power of two (and here at most 1 GiB, so that padding cannot overflow).
        let alignment = metadata["general.alignment"].map { $0.integer ?? 0 } ?? 32
        guard alignment > 0, alignment <= 1 << 30, alignment & (alignment - 1) == 0 else {
            throw .malformed(path: path, reason: "general.alignment is \(metadata["general.alignment"]!), not a power of two up to 2^30")
        }
        dataStart = (reader.position + alignment - 1) / alignment * alignment
        for info in infos.values {
            let elements = info.shape.reduce(1, *)
            let end = dataStart + info.offset + info.type.byteCount(elements: elements)
            guard info.offset % alignment == 0 else {
                throw .malformed(path: path, reason: "tensor \(info.name) is at offset \(info.offset), not a multiple of the alignment \(alignment)")
            }
            guard end <= data.count else {
                throw .malformed(
                    path: path,
                    reason:
                        "tensor \(info.name) (\(info.type), shape \(info.shape)) at offset \(info.offset) runs past the end of the \(data.count)-byte file"
                )
            }
        }
        self.metadata = metadata
        tensors = infos
        tensorOrder = order
    }

    /// A tensor's bytes exactly as stored (F16 and quantized blocks kept).
    public func bytes(_ name: String) throws(FormatError) -> [UInt8] { Array(try mapped(name).bytes) }

    /// A tensor's bytes in the file's mapping, without a copy, and the object that keeps them mapped.
    public func mapped(_ name: String) throws(FormatError) -> (bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        guard let info = tensors[name] else { throw .malformed(path: path, reason: "no tensor named \(name)") }
        let start = dataStart + info.offset, count = info.type.byteCount(elements: info.shape.reduce(1, *))
        return (UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + count)]), file)
    }

    /// A tensor as Float32 (F16 widened, quantized blocks dequantized).
    public func tensor(_ name: String) throws(FormatError) -> Tensor {
        guard let info = tensors[name] else { throw .malformed(path: path, reason: "no tensor named \(name)") }
        let count = info.shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        let start = dataStart + info.offset, bytes = info.type.byteCount(elements: count)
        data.withUnsafeBytes { raw in
            let region = UnsafeRawBufferPointer(rebasing: raw[start..<(start + bytes)])
            values.withUnsafeMutableBufferPointer { out in
                switch info.type {
                case .f32:
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(littleEndian: region.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                case .f16:
                    for i in 0..<count {
                        out[i] = Float(Float16(bitPattern: UInt16(littleEndian: region.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                    }
                case .bf16:
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: region.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                case .q4_0: BlockQuantization.q4_0.dequantize(region, count: count, into: out.baseAddress!)
                case .q8_0: BlockQuantization.q8_0.dequantize(region, count: count, into: out.baseAddress!)
                case .q4_1: BlockQuantization.q4_1.dequantize(region, count: count, into: out.baseAddress!)
                case .q5_0, .q5_1, .q4_K, .q5_K, .q6_K:
                    if count > 0 { GGMLBlocks.dequantize(info.type, region.baseAddress!, count: count, into: out.baseAddress!) }
                }
            }
        }
        return Tensor(values).reshaped(info.shape)
    }
}

/// Bounds-checked little-endian reads of a GGUF header.
struct GGUFReader {
    let data: Data
    let path: String
    var position = 0

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(FormatError) -> T {
        guard position + MemoryLayout<T>.size <= data.count else { throw .malformed(path: path, reason: "header ends early at byte \(position)") }
        let value = data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: T.self)) }
        position += MemoryLayout<T>.size
        return value
    }

    /// A uint64 count that must fit what is left of the file.
    mutating func count() throws(FormatError) -> Int {
        let value = try read(UInt64.self)
        guard value <= UInt64(data.count) * 8 else {
            throw .malformed(path: path, reason: "count \(value) at byte \(position - 8) is larger than the file allows")
        }
        return Int(value)
    }

    mutating func string() throws(FormatError) -> String {
        let length = try count()
        guard position + length <= data.count else {
            throw .malformed(path: path, reason: "a string of \(length) bytes runs past the end at byte \(position)")
        }
        let text = String(decoding: data[(data.startIndex + position)..<(data.startIndex + position + length)], as: UTF8.self)
        position += length
        return text
    }

    /// Arrays of arrays nest at most this deep (ggml's reader refuses any nesting; deeper input would
    /// otherwise recurse until the stack runs out).
    static let maximumNesting = 8

    mutating func value(type: UInt32, depth: Int = 0) throws(FormatError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7: return .bool(try read(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            let elementType = try read(UInt32.self), n = try count()
            guard elementType != 9 || depth < Self.maximumNesting else {
                throw .malformed(path: path, reason: "arrays nested more than \(Self.maximumNesting) deep at byte \(position - 12)")
            }
            // Every element takes at least one byte, so the count is bounded by what is left.
            guard n <= data.count - position else {
                throw .malformed(path: path, reason: "an array of \(n) elements at byte \(position - 12) runs past the end")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default: throw .malformed(path: path, reason: "metadata value type \(type) at byte \(position - 4)")
        }
    }
}
