import Foundation

/// CIFAR-10 and CIFAR-100 binary batches (Krizhevsky 2009): fixed-size records of label byte(s)
/// followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32).
public enum CIFAR {
    public enum Variant: String, Sendable, CaseIterable {
        case cifar10, cifar100

        /// Bytes before the pixels: CIFAR-100 stores the coarse label, then the fine one.
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        public var classCount: Int { self == .cifar10 ? 10 : 100 }
        var recordSize: Int { labelBytes + 3072 }

        /// File names of the training and test batches as distributed.
        public var trainFiles: [String] { self == .cifar10 ? (1...5).map { "data_batch_\($0).bin" } : ["train.bin"] }
        public var testFiles: [String] { self == .cifar10 ? ["test_batch.bin"] : ["test.bin"] }
    }

    /// The records of binary batch files, concatenated (fine labels for CIFAR-100).
    public static func read(_ paths: [String], variant: Variant) throws(DataError) -> ImageDataset {
        var pixels: [UInt8] = [], labels: [Int] = []
        for path in paths {
            let bytes = [UInt8](try readMaybeGzip(path))
            guard !bytes.isEmpty, bytes.count % variant.recordSize == 0 else {
                throw .malformed(
                    path: path, reason: "\(bytes.count) bytes is not a whole number of \(variant.recordSize)-byte \(variant.rawValue) records")
            }
            for start in stride(from: 0, to: bytes.count, by: variant.recordSize) {
                let label = Int(bytes[start + variant.labelBytes - 1])
                guard label < variant.classCount else {
                    throw .malformed(path: path, reason: "label \(label) in record \(start / variant.recordSize) is not below \(variant.classCount)")
                }
                labels.append(label)
                pixels.append(contentsOf: bytes[(start + variant.labelBytes)..<(start + variant.recordSize)])
            }
        }
        return ImageDataset(pixels: pixels, labels: labels, channels: 3, height: 32, width: 32, classCount: variant.classCount)
    }
}
