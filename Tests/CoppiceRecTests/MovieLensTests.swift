import CoppiceData
import CoppiceRec
import Foundation
import Testing

@Suite struct MovieLensTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".data/ml-100k").path

    @Test func movieLensIsAChronologicalCTRTask() throws {
        guard FileManager.default.fileExists(atPath: Self.directory + "/ml-100k.inter") else {
            Issue.record("\(Self.directory) is missing: run scripts/fetch-data.sh (scripts/test.sh does)")
            return
        }
        let data = try MovieLens100K.load(directory: Self.directory)
        #expect(data.examples.count == 100_000)
        #expect(data.examples.filter { $0.label == 1 }.count == 55_375, "ratings of 4 and 5")
        #expect(data.tableSizes == [943, 1682, 2, 21, data.tableSizes[4], 19, 24, 7])
        #expect(zip(data.examples, data.examples.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })
        let days = (data.examples.last!.timestamp - data.examples.first!.timestamp) / 86_400
        #expect((212...214).contains(days), "213 days, September 1997 to April 1998: \(days)")
        for example in data.examples.prefix(1000) {
            #expect(
                example.sparse.count == 8
                    && zip(example.sparse, data.tableSizes).allSatisfy { ids, n in !ids.isEmpty && ids.allSatisfy { (0..<n).contains($0) } })
        }
        #expect(data.examples.contains { $0.sparse[5].count > 1 }, "genres are multi-hot")
    }

    @Test func malformedFilesNameTheLine() throws {
        let directory = NSTemporaryDirectory() + "ml-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n1\t24\tM\ttechnician\t85711\n"
            .write(toFile: directory + "/ml-100k.user", atomically: true, encoding: .utf8)
        try "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n1\tToy Story\t1995\tAnimation Comedy\n"
            .write(toFile: directory + "/ml-100k.item", atomically: true, encoding: .utf8)
        try "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t1\t5\t881250949\n1\t1\t4\n"
            .write(toFile: directory + "/ml-100k.inter", atomically: true, encoding: .utf8)
        #expect(throws: CTRDataError.malformed(file: "ml-100k.inter", line: 3, reason: "expected 4 tab-separated fields, found 3")) {
            try MovieLens100K.load(directory: directory)
        }
        #expect(throws: CTRDataError.self) { try MovieLens100K.load(directory: "/nonexistent") }
    }
}
