import CoppiceData
import CoppiceTestSupport
import Foundation
import Testing

@Suite struct DataReaderTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "coppice-data-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func write(_ data: Data, _ name: String) -> String {
        let path = directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    func gzip(_ data: Data) throws -> Data {
        let input = write(data, "plain-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kf", input]
        try process.run()
        process.waitUntilExit()
        return FileManager.default.contents(atPath: input + ".gz")!
    }

    @Test func idxImagesAndLabelsRoundTripPlainAndGzip() throws {
        let pixels = (0..<(3 * 4 * 5)).map { UInt8($0 * 3 % 256) }
        let images = IDX.encode(dimensions: [3, 4, 5], values: pixels)
        let labels = IDX.encode(dimensions: [3], values: [7, 0, 9])
        let plain = try IDX.imageDataset(images: write(images, "i.idx"), labels: write(labels, "l.idx"))
        #expect(plain.pixels == pixels && plain.labels == [7, 0, 9] && plain.height == 4 && plain.width == 5)
        let zipped = try IDX.imageDataset(images: write(try gzip(images), "i.idx.gz"), labels: write(try gzip(labels), "l.idx.gz"))
        #expect(zipped.pixels == pixels && zipped.labels == [7, 0, 9])
    }

    @Test func malformedIDXFilesGiveClearErrors() throws {
        let good = IDX.encode(dimensions: [2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        func error(_ data: Data) -> String {
            do { _ = try IDX.read(write(data, "bad-\(UUID().uuidString)")); return "no error" } catch { return error.description }
        }
        #expect(error(Data([1, 0, 8, 1, 0, 0, 0, 1, 5])).contains("bad idx magic"))
        #expect(error(Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 5])).contains("unsupported idx value type 0D"))
        #expect(error(good.dropLast(3)).contains("truncated"))
        #expect(error(good + Data([9])).contains("trailing bytes"))
        #expect(error(Data([0, 0, 8, 3, 0, 0])).contains("header is truncated"))
        #expect(error(Data([0x1F, 0x8B, 8, 0, 1, 2, 3])).contains("gzip"))
        let labels = write(IDX.encode(dimensions: [3], values: [1, 2, 3]), "three-labels")
        #expect(throws: DataError.self) { try IDX.imageDataset(images: write(good, "two-images"), labels: labels) }
        #expect(throws: DataError.missing(path: directory + "/nope", hint: "run scripts/fetch-data.sh, or pass the directory holding the files")) {
            try IDX.read(directory + "/nope")
        }
    }

    @Test func cifarBatchesAreReadRecordByRecord() throws {
        var bytes: [UInt8] = []
        for record in 0..<3 {
            bytes.append(UInt8(record + 4))
            bytes += (0..<3072).map { UInt8(($0 + record) % 256) }
        }
        let set = try CIFAR.read([write(Data(bytes), "data_batch_1.bin")], variant: .cifar10)
        #expect(set.count == 3 && set.labels == [4, 5, 6] && set.channels == 3 && set.pixels[3072] == 1)
        #expect(throws: DataError.self) { try CIFAR.read([write(Data(bytes.dropLast()), "short.bin")], variant: .cifar10) }
        var hundred: [UInt8] = [3, 99] + [UInt8](repeating: 1, count: 3072)
        #expect(try CIFAR.read([write(Data(hundred), "train.bin")], variant: .cifar100).labels == [99])
        hundred[1] = 100
        #expect(throws: DataError.self) { try CIFAR.read([write(Data(hundred), "bad100.bin")], variant: .cifar100) }
    }

    @Test func pixelCSVChecksEveryField() throws {
        let row = (0..<784).map { String($0 % 256) }.joined(separator: ",")
        let set = try PixelCSV.read(write(Data((row + ",3\n" + row + ",9\n").utf8), "ok.csv"))
        #expect(set.labels == [3, 9] && set.pixels.count == 2 * 784)
        func error(_ text: String) -> String {
            do { _ = try PixelCSV.read(write(Data(text.utf8), "bad-\(UUID().uuidString).csv")); return "no error" } catch { return error.description }
        }
        #expect(error(row + "\n").contains("expected 785 fields"))
        #expect(error(row + ",10\n").contains("label 10"))
        #expect(error(row.replacingOccurrences(of: "255", with: "256") + ",1\n").contains("outside 0–255"))
        #expect(error(row + ",x\n").contains("not an integer"))
    }

    @Test func loaderShufflesBySeedAugmentsAndCoversEveryExample() throws {
        let n = 10
        let set = ImageDataset(pixels: (0..<(n * 4)).map { UInt8($0) }, labels: Array(0..<n), channels: 1, height: 2, width: 2, classCount: n)
        let loader = try DataLoader(dataset: set, batchSize: 4, shuffle: true, dropLast: false, seed: 3)
        let labels = loader.batches(epoch: 0).flatMap(\.labels)
        #expect(labels.sorted() == Array(0..<n) && labels != Array(0..<n))
        #expect(labels == loader.batches(epoch: 0).flatMap(\.labels), "same seed and epoch, same order")
        #expect(labels != loader.batches(epoch: 1).flatMap(\.labels))
        let dropping = try DataLoader(dataset: set, batchSize: 4, shuffle: false, dropLast: true)
        #expect(dropping.batchCount == 2 && dropping.batches(epoch: 0).map(\.labels.count) == [4, 4])
        let normalized = try DataLoader(
            dataset: set, batchSize: 10, shuffle: false,
            augmentation: Augmentation(mean: [0.5], standardDeviation: [0.25]))
        let first = normalized.batch(0, epoch: 0, order: Array(0..<n)).images
        #expect(first.shape == [10, 1, 2, 2] && Swift.abs(first.scalars[1] - (1 / 255 - 0.5) / 0.25) < 1e-6)
        let flipped = try DataLoader(dataset: set, batchSize: 10, shuffle: false, augmentation: Augmentation(cropPadding: 1, horizontalFlip: true))
        let values = flipped.batch(0, epoch: 0, order: Array(0..<n)).images.scalars
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 } && values != first.scalars)
        #expect(throws: DataError.self) { try DataLoader(dataset: set, batchSize: 0, shuffle: false) }
    }
}
