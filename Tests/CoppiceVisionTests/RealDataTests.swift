import CoppiceData
import CoppiceVision
import Foundation
import Testing

/// The real datasets from the cache that scripts/fetch-data.sh fills (scripts/test.sh runs it first).
@Suite struct RealDataTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func load(_ name: DatasetName) throws -> (train: ImageDataset, test: ImageDataset) {
        let directory = Self.root + "/" + name.defaultDirectory
        guard FileManager.default.fileExists(atPath: directory) else {
            Issue.record("\(directory) is missing: run scripts/fetch-data.sh (scripts/test.sh does)")
            throw DataError.missing(path: directory, hint: "run scripts/fetch-data.sh")
        }
        return try name.load(directory: directory)
    }

    @Test(arguments: [DatasetName.mnist, .fashionMNIST])
    func idxDatasetsHaveTheirPublishedSizes(name: DatasetName) throws {
        let (train, test) = try load(name)
        #expect(train.count == 60_000 && test.count == 10_000 && train.height == 28 && train.width == 28)
        var perClass = [Int](repeating: 0, count: 10)
        for label in test.labels { perClass[label] += 1 }
        #expect(perClass.allSatisfy { $0 >= 890 && $0 <= 1135 }, "\(perClass)")
        #expect(train.pixels.max() == 255 && train.pixels.min() == 0)
    }

    @Test func mnist5kHasFiveHundredPerClass() throws {
        let (train, test) = try load(.mnist5k)
        #expect(train.count + test.count == 5000)
        var perClass = [Int](repeating: 0, count: 10)
        for label in train.labels + test.labels { perClass[label] += 1 }
        #expect(perClass == [Int](repeating: 500, count: 10))
        #expect(Set(test.labels).count == 10 && test.count == 1000, "the held-out rows cover every class")
    }
}
