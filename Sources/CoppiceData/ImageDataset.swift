import Foundation

/// Labelled images kept as bytes (0–255), [count, channels, height, width] row-major.
public struct ImageDataset: Sendable {
    public var pixels: [UInt8]
    public var labels: [Int]
    public var channels: Int
    public var height: Int
    public var width: Int
    public var classCount: Int

    public init(pixels: [UInt8], labels: [Int], channels: Int, height: Int, width: Int, classCount: Int) {
        self.pixels = pixels
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The first `n` examples (for quick runs).
    public func prefix(_ n: Int) -> ImageDataset {
        let n = min(n, count)
        return ImageDataset(
            pixels: Array(pixels[0..<(n * imageSize)]), labels: Array(labels[0..<n]), channels: channels,
            height: height, width: width, classCount: classCount)
    }

    /// The examples at `indices`, in that order (e.g. to split off a validation set).
    public func select(_ indices: [Int]) -> ImageDataset {
        var selected: [UInt8] = []
        selected.reserveCapacity(indices.count * imageSize)
        for i in indices { selected += pixels[(i * imageSize)..<((i + 1) * imageSize)] }
        return ImageDataset(
            pixels: selected, labels: indices.map { labels[$0] }, channels: channels, height: height,
            width: width, classCount: classCount)
    }
}

/// Reads a whole file, decompressing gzip when the content (not the name) says so.
func readMaybeGzip(_ path: String) throws(DataError) -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw .missing(path: path, hint: "run scripts/fetch-data.sh, or pass the directory holding the files")
    }
    return Gzip.isCompressed(data) ? try Gzip.decompress(data, path: path) : data
}
