import CoppiceKernels
import CoppiceTensor
import Foundation

/// A GGUF metadata value of any of the format's types.
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), float32(Float), bool(Bool)
    case string(String), uint64(UInt64), int64(Int64), float64(Double)
    case array([GGUFValue])

    var typeCode: UInt32 {
        switch self {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    public var integer: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    public var number: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: integer.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
}
