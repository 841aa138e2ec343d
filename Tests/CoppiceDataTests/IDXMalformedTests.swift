import CoppiceData
import Foundation
import Testing

/// idx(.gz) files from strangers: a corpus of variants of a valid file (every truncation, every
/// value type, dimensions of 2^31 and 2^32 − 1 and products past 64 bits, corrupt gzip) and image/label
/// pairs that disagree. Each is refused with a `DataError` naming the file.
@Suite struct IDXMalformedTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "idx-malformed-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static let good = IDX.encode(dimensions: [2, 2, 3], values: Array(1...12))

    func write(_ data: Data) -> String {
        let path = directory + "/variant-\(UUID().uuidString).idx"
        #expect(FileManager.default.createFile(atPath: path, contents: data))
        return path
    }

    func outcome(_ data: Data) -> String {
        let path = write(data)
        do {
            _ = try IDX.read(path)
            return "accepted"
        } catch {
            #expect(error.description.contains(path), "the error names the file: \(error)")
            return error.description
        }
    }

    static func header(type: UInt8 = 8, _ dimensions: [UInt32]) -> Data {
        var data = Data([0, 0, type, UInt8(dimensions.count)])
        for d in dimensions { withUnsafeBytes(of: d.bigEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// Compressed by the system's gzip, as DataReaderTests does.
    static func gzip(_ data: Data) throws -> Data { try DataReaderTests().gzip(data) }

    @Test func everyTruncationIsRefused() throws {
        #expect(outcome(Self.good) == "accepted")
        for length in 0..<Self.good.count { #expect(outcome(Self.good.prefix(length)) != "accepted", "\(length) bytes") }
        let zipped = try Self.gzip(Self.good)
        #expect(outcome(zipped) == "accepted")
        for length in 2..<zipped.count { #expect(outcome(zipped.prefix(length)) != "accepted", "gzip cut to \(length) bytes") }
    }

    @Test func eachVariantIsRefusedWithItsReason() throws {
        var variants: [(String, Data, String)] = [
            ("magic 01 00", Data([1, 0]) + Self.good.dropFirst(2), "bad idx magic"),
            ("magic 00 01", Data([0, 1]) + Self.good.dropFirst(2), "bad idx magic"),
            ("magic FF FF", Data([0xFF, 0xFF]) + Self.good.dropFirst(2), "bad idx magic"),
            ("0 dimensions", Self.header([]) + Data([1]), "0 dimensions"),
            ("255 dimensions, header short", Data([0, 0, 8, 255, 0, 0, 0, 1]), "header is truncated"),
            ("dimension 2^31", Self.header([1 << 31]) + Data([1]), "truncated"),
            ("dimension 2^32 - 1", Self.header([.max]) + Data([1]), "truncated"),
            ("product past 64 bits", Self.header([.max, .max, .max, .max]) + Data([1]), "truncated"),
            ("zero dimension with values", Self.header([0, 3]) + Data([1, 2, 3]), "trailing bytes"),
            ("one value short", Self.good.dropLast(), "truncated"),
            ("one value extra", Self.good + Data([0]), "trailing bytes"),
            ("gzip magic only", Data([0x1F, 0x8B]), "gzip"),
            ("gzip header, corrupt body", Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF]), "gzip"),
            ("gzip of a file with a bad magic", try Self.gzip(Data([1, 1]) + Self.good.dropFirst(2)), "bad idx magic"),
            ("gzip of a truncated file", try Self.gzip(Self.good.dropLast(4)), "truncated"),
        ]
        for type: UInt8 in [0x00, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF] {
            var data = Self.good
            data[2] = type
            variants.append(("value type \(type)", data, "unsupported idx value type"))
        }
        #expect(variants.count >= 20)
        for (name, data, expected) in variants {
            let result = outcome(data)
            #expect(result.contains(expected), "\(name): \(result)")
        }
    }

    @Test func imagesAndLabelsThatDisagreeAreRefused() {
        let images = write(Self.good)
        let cases: [(String, String, String)] = [
            ("three labels for two images", write(IDX.encode(dimensions: [3], values: [1, 2, 3])), "3 labels for 2 images"),
            ("a label past the classes", write(IDX.encode(dimensions: [2], values: [1, 10])), "label 10 at index 1"),
            ("labels as a matrix", write(IDX.encode(dimensions: [2, 1], values: [1, 2])), "expected [count] labels"),
        ]
        for (name, labels, expected) in cases {
            do {
                _ = try IDX.imageDataset(images: images, labels: labels)
                Issue.record("\(name): accepted")
            } catch { #expect(error.description.contains(expected), "\(name): \(error)") }
        }
        do {
            _ = try IDX.imageDataset(images: write(IDX.encode(dimensions: [2, 6], values: Array(1...12))), labels: images)
            Issue.record("images as a matrix: accepted")
        } catch { #expect(error.description.contains("expected [count, rows, columns] images")) }
    }
}
