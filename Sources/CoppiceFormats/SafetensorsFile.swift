import CoppiceTensor
import Foundation

/// Hugging Face's safetensors format: an 8-byte little-endian header length, a JSON header mapping
/// each name to {dtype, shape, data_offsets} (offsets relative to the data section) plus an optional
/// `__metadata__` object of strings, then the raw little-endian data.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"
    /// 32-bit signed integers (sparse indices); read exactly with `int32s(_:)`.
    case i32 = "I32"

    public var byteCount: Int { self == .f16 || self == .bf16 ? 2 : 4 }
}

/// A tensor's entry in a safetensors header.
public struct SafetensorsEntry: Sendable, Equatable {
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var begin: Int
    public var end: Int
}

/// A safetensors file opened by memory mapping: the header is parsed and validated up front; tensor
/// data is paged in only when a tensor is read.
public final class SafetensorsFile {
    public let path: String
    public let entries: [String: SafetensorsEntry]
    public let metadata: [String: String]
    private let file: MappedFile
    private var mapping: UnsafeRawBufferPointer { file.bytes }
    private let dataStart: Int

    public init(path: String) throws(FormatError) {
        self.path = path
        file = try MappedFile(path: path)
        guard file.bytes.count >= 8 else {
            throw .malformed(path: path, reason: "file has \(file.bytes.count) bytes, less than the 8-byte header length")
        }
        (entries, metadata, dataStart) = try Self.parseHeader(file.bytes, path: path)
    }

    public var names: [String] { entries.keys.sorted() }

    /// The named tensor as Float32 (F16 and BF16 widened exactly).
    public func tensor(_ name: String) throws(FormatError) -> Tensor {
        guard let entry = entries[name] else {
            throw .malformed(path: path, reason: "no tensor named '\(name)' (has \(names.prefix(8).joined(separator: ", ")))")
        }
        let count = entry.shape.reduce(1, *)
        let bytes = UnsafeRawBufferPointer(rebasing: mapping[(dataStart + entry.begin)..<(dataStart + entry.end)])
        var values = [Float](repeating: 0, count: count)
        switch entry.dtype {
        case .f32:
            for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count {
                values[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case .bf16:
            for i in 0..<count {
                values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        case .i32:
            for i in 0..<count { values[i] = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        }
        return Tensor(values).reshaped(entry.shape)
    }

    /// The named I32 tensor's values, exactly.
    public func int32s(_ name: String) throws(FormatError) -> [Int32] {
        guard let entry = entries[name], entry.dtype == .i32 else {
            throw .malformed(path: path, reason: "no I32 tensor named '\(name)'")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: mapping[(dataStart + entry.begin)..<(dataStart + entry.end)])
        return (0..<(entry.shape.reduce(1, *))).map { Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    }

    /// Every tensor by name.
    public func tensors() throws(FormatError) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in names { result[name] = try tensor(name) }
        return result
    }

    static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws(FormatError)
        -> ([String: SafetensorsEntry], [String: String], Int)
    {
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(file.count - 8) else {
            throw .malformed(path: path, reason: "header length \(headerLength) runs past the end of the \(file.count)-byte file")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = file.count - dataStart
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        guard String(data: headerBytes, encoding: .utf8) != nil else { throw .malformed(path: path, reason: "header is not valid UTF-8") }
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw .malformed(path: path, reason: "header is not a JSON object")
        }
        var seen = Set<String>()
        for key in JSONObjectKeys.topLevel(of: headerBytes) ?? [] where !seen.insert(key).inserted {
            throw .malformed(path: path, reason: "header names '\(key)' more than once")
        }
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let object = value as? [String: Any] else { throw .malformed(path: path, reason: "__metadata__ is not an object") }
                for (key, item) in object {
                    guard let text = item as? String else { throw .malformed(path: path, reason: "__metadata__['\(key)'] is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let object = value as? [String: Any], let dtypeName = object["dtype"] as? String,
                let shapeValues = object["shape"] as? [Any], let offsets = object["data_offsets"] as? [Any], offsets.count == 2
            else {
                throw .malformed(path: path, reason: "entry '\(name)' needs dtype, shape and two data_offsets")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw .malformed(path: path, reason: "entry '\(name)' has dtype \(dtypeName); supported: F32, F16, BF16, I32")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            let bounds = offsets.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), bounds.count == 2 else {
                throw .malformed(path: path, reason: "entry '\(name)' has a shape or offsets that are not non-negative integers")
            }
            let (begin, end) = (bounds[0], bounds[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw .malformed(path: path, reason: "entry '\(name)' offsets [\(begin), \(end)) lie outside the \(dataLength)-byte data section")
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .malformed(path: path, reason: "entry '\(name)' shape \(shape) overflows") }
                elements = product
            }
            let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow else { throw .malformed(path: path, reason: "entry '\(name)' shape \(shape) overflows") }
            guard byteCount == end - begin else {
                throw .malformed(
                    path: path,
                    reason: "entry '\(name)': shape \(shape) of \(dtype.rawValue) needs \(byteCount) bytes, offsets give \(end - begin)")
            }
            entries[name] = SafetensorsEntry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        // The format's rule: the tensors tile the data section exactly, with no gap, overlap or tail.
        let sorted = entries.sorted { ($0.value.begin, $0.value.end) < ($1.value.begin, $1.value.end) }
        var covered = 0
        for (name, entry) in sorted {
            if entry.begin < covered {
                throw .malformed(path: path, reason: "entry '\(name)' at [\(entry.begin), \(entry.end)) overlaps the tensor before it")
            }
            if entry.begin > covered {
                throw .malformed(path: path, reason: "data bytes [\(covered), \(entry.begin)) belong to no tensor (gap before '\(name)')")
            }
            covered = entry.end
        }
        guard covered == dataLength else {
            throw .malformed(path: path, reason: "data section has \(dataLength) bytes but its tensors cover \(covered)")
        }
        return (entries, metadata, dataStart)
    }
}
