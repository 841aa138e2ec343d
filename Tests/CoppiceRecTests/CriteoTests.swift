import CoppiceData
import CoppiceRec
import Foundation
import Testing

@Suite struct CriteoTests {
    /// A copy of shared/data/criteo_sample.csv: 200 real rows of the Kaggle data, with a header.
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/criteo_sample.csv").path

    @Test func theSampleParsesExactlyAsItsText() throws {
        let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
        let lines = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let result = try CriteoReader(tableSize: 0, onError: .fail).read(path: Self.sample)
        #expect(result.errors.isEmpty && result.rows.count == 200 && lines.count == 200)
        for (row, fields) in zip(result.rows, lines) {
            #expect(row.label == Float(fields[0])!)
            for i in 0..<13 {
                let expected = fields[1 + i].isEmpty ? 0 : Float(log1p(max(Double(fields[1 + i])!, 0)))
                #expect(row.dense[i] == expected)
            }
            for i in 0..<26 {
                let field = fields[14 + i]
                #expect(row.sparse[i] == (field.isEmpty ? 0 : Int(field, radix: 16)!))
            }
        }
        let hashed = try CriteoReader(tableSize: 1000).read(path: Self.sample, limit: 5)
        #expect(hashed.rows.count == 5 && hashed.rows.allSatisfy { $0.sparse.allSatisfy { (0..<1000).contains($0) } })
        #expect(hashed.rows[0].sparse[0] == Int(0x05db9164 % 1000), "C1 of the first row is 05db9164")
    }

    @Test func malformedRowsAreCountedWithLineNumbersOrFatal() throws {
        let good = "0\t1\t2\t\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13\t" + (0..<26).map { _ in "68fd1e64" }.joined(separator: "\t")
        let lines = [
            good + "\r",  // 1: CRLF is fine
            "",  // 2: empty, ignored
            "1\t2\t3",  // 3: wrong column count
            good.replacingOccurrences(of: "\t68fd1e64", with: "\tzz", options: [], range: good.range(of: "\t68fd1e64")),  // 4: bad hex
            good.replacingOccurrences(of: "0\t1\t2", with: "0\t1e999\t2"),  // 5: huge number
            "2" + good.dropFirst(),  // 6: bad label
            good,  // 7
        ]
        let path = NSTemporaryDirectory() + "criteo-\(UUID().uuidString).tsv"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try CriteoReader(tableSize: 100).read(path: path)
        #expect(result.rows.count == 2)
        #expect(result.errors.map { if case .malformedRow(let line, _) = $0 { line } else { -1 } } == [3, 4, 5, 6])
        #expect(result.errors.map(\.description).contains { $0.contains("line 4") && $0.contains("hexadecimal") })
        #expect(result.rows[0].dense[2] == 0 && result.rows[0].dense[0] == Float(log1p(1.0)), "a missing integer is 0")
        #expect(throws: CriteoError.malformedRow(line: 3, reason: "expected 40 fields, found 3")) {
            try CriteoReader(onError: .fail).read(path: path)
        }
        #expect(throws: CriteoError.self) { try CriteoReader().read(path: "/nonexistent/criteo.tsv") }
    }

    @Test func cacheRoundTripsExactlyAndRefusesBadFiles() throws {
        let rows = try CriteoReader(tableSize: 1 << 20).read(path: Self.sample).rows
        let path = NSTemporaryDirectory() + "criteo-\(UUID().uuidString).cache"
        try CriteoCache.write(rows, to: path)
        #expect(try CriteoCache.read(from: path) == rows)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
        #expect(throws: CriteoError.self, "truncated") { try CriteoCache.read(from: path) }
        #expect(throws: CriteoError.self, "not a cache") { try CriteoCache.read(from: Self.sample) }
        let built = NSTemporaryDirectory() + "criteo-\(UUID().uuidString).cpcache"
        let (count, errors) = try CriteoCache.build(from: Self.sample, to: built, reader: CriteoReader(tableSize: 1 << 20))
        #expect(count == rows.count && errors.isEmpty)
        let file = try CriteoCache.File(path: built)
        #expect(try file.rows(17..<40) == Array(rows[17..<40]) && file.count == rows.count)
        #expect(throws: CriteoError.self) { try file.rows(190..<201) }
        // The stream's 7 days × 2 chunks cover every row once, in order.
        let stream = try CriteoCacheStream(file: file, tableSize: 1 << 20, chunksPerDay: 2)
        let streamed = try (0..<stream.chunkCount!).flatMap { try stream.chunk($0) }
        #expect(streamed.map(\.label) == rows.map(\.label) && streamed.map { $0.sparse.map(\.[0]) } == rows.map(\.sparse))
        #expect(throws: CTRDataError.self, "ids beyond a smaller table") { try CriteoCacheStream(file: file, tableSize: 10).chunk(0) }
        let (train, validation, test) = CriteoCache.daySplit(Array(0..<200))
        #expect(train == Array(0..<168)[...] && validation == Array(168..<184)[...] && test == Array(184..<200)[...])
    }
}
