import CoppiceRec
import Foundation
import Testing

/// Criteo text and Coppice's binary cache from strangers: a corpus of malformed lines (each refused
/// with its line number and the field at fault), a line with no end, and caches whose header or rows
/// are corrupt (refused, never read as NaN or as ids past a table).
@Suite struct CriteoMalformedTests {
    static let good = ["0"] + (1...13).map(String.init) + (0..<26).map { _ in "68fd1e64" }

    static func line(_ edit: (inout [String]) -> Void) -> String {
        var fields = good
        edit(&fields)
        return fields.joined(separator: "\t")
    }

    static var variants: [(name: String, line: String, expected: String)] {
        var list: [(String, String, String)] = [
            ("39 fields", line { $0.removeLast() }, "expected 40 fields, found 39"),
            ("41 fields", line { $0.append("1") }, "expected 40 fields, found 41"),
            ("one field", "1", "expected 40 fields, found 1"),
            ("commas in a tab file", good.joined(separator: ","), "expected 40 fields, found 1"),
            ("tabs and a trailing tab", line { $0[39] += "\t" }, "expected 40 fields, found 41"),
        ]
        for label in ["2", "-1", "0.5", "", "x", "nan", "inf", "1e999"] {
            list.append(("label '\(label)'", line { $0[0] = label }, "label must be 0 or 1"))
        }
        for value in ["nan", "inf", "-inf", "1e999", "x", "1,5", "--1", "1 "] {
            list.append(("integer '\(value)'", line { $0[3] = value }, "integer feature I3"))
        }
        for value in ["zz", "g", "-1", "0x1f", "123456789abcdef01", "68fd 1e64", "\u{FF}"] {
            list.append(("categorical '\(value)'", line { $0[20] = value }, "categorical feature C7"))
        }
        return list
    }

    @Test func eachMalformedLineIsRefusedWithItsLineAndField() throws {
        let variants = Self.variants
        #expect(variants.count >= 20)
        let reader = CriteoReader(tableSize: 1000, onError: .fail)
        #expect(throws: Never.self) { try reader.parse(Self.good.joined(separator: "\t"), separator: "\t", line: 1) }
        for (index, (name, text, expected)) in variants.enumerated() {
            do {
                _ = try reader.parse(text, separator: "\t", line: index + 2)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.description.hasPrefix("Criteo line \(index + 2): ") && error.description.contains(expected), "\(name): \(error)")
            }
        }
        // The same lines in a file: skipped and counted with their line numbers, the good ones kept.
        let path = NSTemporaryDirectory() + "criteo-malformed-\(UUID().uuidString).tsv"
        let lines = [Self.good.joined(separator: "\t")] + variants.map(\.line) + [Self.good.joined(separator: "\t")]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try CriteoReader(tableSize: 1000).read(path: path)
        #expect(result.rows.count == 2 && result.errors.count == variants.count)
    }

    @Test func aLineWithoutEndIsRefusedBeforeItFillsMemory() throws {
        let path = NSTemporaryDirectory() + "criteo-long-\(UUID().uuidString).tsv"
        let good = Self.good.joined(separator: "\t")
        try (good + "\n" + String(repeating: "1", count: 3 << 20)).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CriteoError.malformedRow(line: 2, reason: "longer than 1048576 bytes")) {
            try CriteoReader(tableSize: 1000, onError: .fail).read(path: path)
        }
        let skipped = try CriteoReader(tableSize: 1000).read(path: path)
        #expect(skipped.rows.count == 1 && skipped.errors == [.malformedRow(line: 2, reason: "longer than 1048576 bytes")])
    }

    @Test func corruptCachesAreRefused() throws {
        let rows = [try CriteoReader(tableSize: 1000).parse(Self.good.joined(separator: "\t"), separator: "\t", line: 1)]
        let path = NSTemporaryDirectory() + "criteo-\(UUID().uuidString).cache"
        try CriteoCache.write(rows, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        func refused(_ edit: (inout Data) -> Void) -> String {
            var copy = bytes
            edit(&copy)
            let bad = NSTemporaryDirectory() + "criteo-bad-\(UUID().uuidString).cache"
            #expect(FileManager.default.createFile(atPath: bad, contents: copy))
            do {
                _ = try CriteoCache.read(from: bad)
                return "accepted"
            } catch { return error.description }
        }
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) -> (inout Data) -> Void {
            { data in data.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
        }
        #expect(refused { _ in } == "accepted")
        #expect(refused { $0[0] = 0x58 }.contains("not a Coppice Criteo cache"))
        #expect(refused(put(UInt32(2), at: 8)).contains("cache version 2"))
        for count: UInt64 in [0, 2, 1 << 31, 1 << 32, 1 << 63, .max] {
            #expect(refused(put(count, at: 12)).contains("header says \(count) rows"), "count \(count)")
        }
        #expect(refused { $0 = $0.prefix(19) }.contains("not a Coppice Criteo cache"))
        #expect(refused { $0 = $0.dropLast() }.contains("the file has"))
        #expect(refused(put(Float.nan.bitPattern, at: 20)).contains("row 0: label"))
        #expect(refused(put(Float(0.5).bitPattern, at: 20)).contains("row 0: label"))
        #expect(refused(put(Float.infinity.bitPattern, at: 24)).contains("row 0: dense feature I1"))
        #expect(refused(put(Int64(-1), at: 24 + 13 * 4)).contains("row 0: categorical feature C1"))
    }

    @Test func aTextFileWithNoRowLeavesNoCacheBehind() throws {
        let path = NSTemporaryDirectory() + "criteo-none-\(UUID().uuidString).tsv"
        try "1\t2\n0\t3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CTRDataError.invalidArgument("\(path): no line is a Criteo row (first: Criteo line 1: expected 40 fields, found 2)")) {
            try CriteoCacheStream.open(path: path, tableSize: 100, chunksPerDay: 1)
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".cpcache"))
    }
}
