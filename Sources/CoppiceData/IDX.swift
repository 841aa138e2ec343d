import Foundation

/// The idx format of MNIST and Fashion-MNIST (LeCun): two zero bytes, a type code, the number of
/// dimensions, each dimension as a big-endian UInt32, then the values. Only unsigned bytes (0x08),
/// the type of every MNIST-like file, are read.
public enum IDX {
    /// The dimensions and bytes of an idx file (plain or gzip).
    public static func read(_ path: String) throws(DataError) -> (dimensions: [Int], values: [UInt8]) {
        try parse(readMaybeGzip(path), path: path)
    }

    public static func parse(_ data: Data, path: String) throws(DataError) -> (dimensions: [Int], values: [UInt8]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else { throw .malformed(path: path, reason: "idx header needs 4 bytes, file has \(bytes.count)") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw .malformed(path: path, reason: "bad idx magic: expected 00 00, found \(hex(bytes[0])) \(hex(bytes[1]))")
        }
        guard bytes[2] == 0x08 else {
            throw .malformed(path: path, reason: "unsupported idx value type \(hex(bytes[2])) (only unsigned bytes, 08, are read)")
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw .malformed(path: path, reason: "idx file declares 0 dimensions") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .malformed(path: path, reason: "idx header is truncated: \(rank) dimensions need \(headerSize) bytes, file has \(bytes.count)")
        }
        var dimensions: [Int] = []
        var total = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dimensions.append(size)
            total *= size
            guard total <= bytes.count else { break }
        }
        let available = bytes.count - headerSize
        guard total == available else {
            throw .malformed(
                path: path,
                reason: "dimensions \(dimensions) need \(total) value bytes, file has \(available)"
                    + (total > available ? " (truncated)" : " (trailing bytes)"))
        }
        return (dimensions, Array(bytes[headerSize...]))
    }

    /// An idx file of unsigned bytes (for writing test fixtures and exports).
    public static func encode(dimensions: [Int], values: [UInt8]) -> Data {
        var data = Data([0, 0, 0x08, UInt8(dimensions.count)])
        for d in dimensions { data.append(contentsOf: [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]) }
        data.append(contentsOf: values)
        return data
    }

    /// Images and labels from a pair of idx files, checking that they agree.
    public static func imageDataset(images: String, labels: String, classCount: Int = 10) throws(DataError) -> ImageDataset {
        let (imageDims, pixels) = try read(images)
        let (labelDims, labelBytes) = try read(labels)
        guard imageDims.count == 3 else {
            throw .malformed(path: images, reason: "expected [count, rows, columns] images, found dimensions \(imageDims)")
        }
        guard labelDims.count == 1 else { throw .malformed(path: labels, reason: "expected [count] labels, found dimensions \(labelDims)") }
        guard labelDims[0] == imageDims[0] else {
            throw .malformed(path: labels, reason: "\(labelDims[0]) labels for \(imageDims[0]) images in \(images)")
        }
        if let bad = labelBytes.firstIndex(where: { Int($0) >= classCount }) {
            throw .malformed(path: labels, reason: "label \(labelBytes[bad]) at index \(bad) is not below \(classCount) classes")
        }
        return ImageDataset(
            pixels: pixels, labels: labelBytes.map(Int.init), channels: 1, height: imageDims[1],
            width: imageDims[2], classCount: classCount)
    }

    static func hex(_ b: UInt8) -> String { String(format: "%02X", b) }
}
