import CoppiceKernels
import CoppiceTensor
import Foundation

/// ggml tensor types Coppice reads. F32, F16, BF16, Q8_0, Q4_0 and Q4_1 are also written and run as
/// stored; Q5_0, Q5_1 and the K-quants are read by dequantizing them (`GGMLBlocks`).
public enum GGUFTensorType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 8, bf16 = 30
    case q4_1 = 3, q5_0 = 6, q5_1 = 7, q4_K = 12, q5_K = 13, q6_K = 14

    /// The types Coppice writes (and its kernels run as stored).
    public static let written: [GGUFTensorType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]

    /// Elements per block: rows must hold whole blocks.
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q8_0, .q4_1, .q5_0, .q5_1: 32
        case .q4_K, .q5_K, .q6_K: 256
        }
    }

    /// Bytes of one block.
    var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18
        case .q8_0: 34
        case .q4_1: 20
        case .q5_0: 22
        case .q5_1: 24
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        }
    }

    /// Bytes of `elements` values (a whole number of blocks; the reader checks rows hold whole blocks).
    public func byteCount(elements: Int) -> Int { elements / blockElements * blockBytes }
}
