import CoppiceTensor
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Safetensors {
    /// Writes `tensors` (stored as `dtype`, F16/BF16 rounded to nearest even) with `metadata`,
    /// atomically. Names are written in sorted order, the header padded with spaces to 8 bytes as
    /// Hugging Face's writer does.
    public static func write(
        _ tensors: [String: Tensor], integers: [String: (shape: [Int], values: [Int32])] = [:],
        metadata: [String: String] = [:], dtype: SafetensorsDType = .f32, to path: String
    ) throws(FormatError) {
        guard dtype != .i32 else { throw .malformed(path: path, reason: "float tensors cannot be stored as I32; pass them as integers") }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let size = t.count * dtype.byteCount
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        let integerNames = integers.keys.sorted()
        for name in integerNames {
            let (shape, values) = integers[name]!
            guard shape.reduce(1, *) == values.count, tensors[name] == nil else {
                throw .malformed(path: path, reason: "integer tensor '\(name)': shape \(shape) for \(values.count) values, or a duplicate name")
            }
            header[name] = ["dtype": "I32", "shape": shape, "data_offsets": [offset, offset + 4 * values.count]] as [String: Any]
            offset += 4 * values.count
        }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            throw .malformed(path: path, reason: "header could not be encoded as JSON")
        }
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            let t = tensors[name]!
            switch dtype {
            case .f32:
                t.withUnsafeBufferPointer { values in values.withMemoryRebound(to: UInt32.self) { out.appendLittleEndian($0) } }
            case .f16:
                t.float16Bits().withUnsafeBufferPointer { out.appendLittleEndian($0) }
            case .bf16:
                t.bfloat16Bits().withUnsafeBufferPointer { out.appendLittleEndian($0) }
            case .i32:
                break
            }
        }
        for name in integerNames {
            integers[name]!.values.withUnsafeBufferPointer { out.appendLittleEndian($0) }
        }
        try AtomicFile.write(out, to: path)
    }
}

extension Data {
    /// Appends each value's little-endian bytes: one copy on a little-endian machine (a checkpoint of
    /// millions of values would otherwise take seconds to assemble).
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>) {
        #if _endian(little)
        append(values)
        #else
        for v in values { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
        #endif
    }
}
