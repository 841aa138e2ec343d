import CoppiceKernels
import CoppiceTensor
import Foundation

/// ggml tensor types Coppice reads and writes.
public enum GGUFTensorType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 8, bf16 = 30

    public func byteCount(elements: Int) -> Int {
        switch self {
        case .f32: 4 * elements
        case .f16, .bf16: 2 * elements
        case .q4_0: BlockQuantization.q4_0.byteCount(elements)
        case .q8_0: BlockQuantization.q8_0.byteCount(elements)
        }
    }
}
