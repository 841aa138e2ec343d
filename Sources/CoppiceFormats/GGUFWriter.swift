import CoppiceKernels
import CoppiceTensor
import Foundation

/// Writes GGUF v3 atomically: metadata in the order given, tensors converted to their types.
public enum GGUFWriter {
    public static func write(
        metadata: [(String, GGUFValue)], tensors: [(name: String, tensor: Tensor, type: GGUFTensorType)],
        to path: String, alignment: Int = 32
    ) throws(FormatError) {
        if let (name, _, type) = tensors.first(where: { !GGUFTensorType.written.contains($0.type) }) {
            throw .malformed(
                path: path, reason: "tensor \(name): \(type.name) is read, not written; write one of \(GGUFTensorType.written.map(\.name))")
        }
        var header = Data()
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func appendString(_ s: String) { append(UInt64(s.utf8.count)); header.append(contentsOf: s.utf8) }
        func appendValue(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): append(x)
            case .int8(let x): append(x)
            case .uint16(let x): append(x)
            case .int16(let x): append(x)
            case .uint32(let x): append(x)
            case .int32(let x): append(x)
            case .float32(let x): append(x.bitPattern)
            case .bool(let x): append(UInt8(x ? 1 : 0))
            case .string(let s): appendString(s)
            case .uint64(let x): append(x)
            case .int64(let x): append(x)
            case .float64(let x): append(x.bitPattern)
            case .array(let items):
                append(items.first?.typeCode ?? 4)
                append(UInt64(items.count))
                for item in items { appendValue(item) }
            }
        }
        append(UInt32(0x4655_4747))
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(metadata.count))
        for (key, value) in metadata {
            appendString(key)
            append(value.typeCode)
            appendValue(value)
        }
        var offset = 0
        for (name, tensor, type) in tensors {
            if type.blockElements > 1 && (tensor.shape.last ?? 0) % type.blockElements != 0 {
                throw .malformed(path: path, reason: "\(name): rows of \(tensor.shape.last ?? 0) cannot be quantized in blocks of 32")
            }
            appendString(name)
            append(UInt32(tensor.rank))
            for n in tensor.shape.reversed() { append(UInt64(n)) }
            append(type.rawValue)
            append(UInt64(offset))
            offset += (type.byteCount(elements: tensor.count) + alignment - 1) / alignment * alignment
        }
        header.append(Data(count: (alignment - header.count % alignment) % alignment))
        // Tensors are encoded and written one at a time, so a large model is not held twice.
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: header)
            for (_, tensor, type) in tensors {
                let blob = encode(tensor, type)
                try handle.write(contentsOf: blob)
                try handle.write(contentsOf: Data(count: (alignment - blob.count % alignment) % alignment))
            }
        }
    }

    static func encode(_ tensor: Tensor, _ type: GGUFTensorType) -> Data {
        let values = tensor.scalars
        switch type {
        case .f32: return values.withUnsafeBufferPointer { Data(buffer: $0) }
        case .f16: return values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        case .bf16: return values.map { bfloat16Bits($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        case .q4_0, .q8_0, .q4_1:
            let format = BlockQuantization(rawValue: type.name)!
            var out = Data(count: format.byteCount(values.count))
            out.withUnsafeMutableBytes { raw in values.withUnsafeBufferPointer { format.quantize($0, into: raw) } }
            return out
        case .q5_0, .q5_1, .q4_K, .q5_K, .q6_K:
            preconditionFailure("write refuses \(type) before encoding")
        }
    }
}
