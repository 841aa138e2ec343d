import CoppiceFormats
import Foundation

/// A binary cache of parsed Criteo rows, so that re-reading skips text parsing: a header
/// ("CPCRITEO", version 1, row count) then per row the label (F32), 13 dense values (F32) and 26 ids
/// (I64), little-endian. Written atomically; a truncated or foreign file is refused with its reason.
/// `build` converts a text file in bounded memory and `File` reads any row range without loading the
/// rest, so files larger than memory stream through training.
public enum CriteoCache {
    static let magic = Array("CPCRITEO".utf8)
    static let headerBytes = 20
    static let rowBytes = 4 * (1 + CriteoRow.denseCount) + 8 * CriteoRow.sparseCount

    public static func write(_ rows: [CriteoRow], to path: String) throws {
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: header(count: rows.count))
            try handle.write(contentsOf: encode(rows))
        }
    }

    /// Parses the text file at `source` with `reader` and writes the cache to `path`, 64K rows at a
    /// time. Returns the rows written and the malformed rows skipped.
    @discardableResult
    public static func build(
        from source: String, to path: String, reader: CriteoReader,
        limit: Int? = nil
    ) throws -> (rows: Int, errors: [CriteoError]) {
        var count = 0, errors: [CriteoError] = []
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: header(count: 0))
            var block: [CriteoRow] = []
            var writeError: Error?
            errors = try reader.forEachRow(path: source, limit: limit) { row in
                block.append(row)
                if block.count == 65_536, writeError == nil {
                    do { try handle.write(contentsOf: encode(block)) } catch { writeError = error }
                    count += block.count
                    block.removeAll(keepingCapacity: true)
                }
            }
            if let writeError { throw writeError }
            try handle.write(contentsOf: encode(block))
            count += block.count
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header(count: count))
        }
        return (count, errors)
    }

    public static func read(from path: String) throws(CriteoError) -> [CriteoRow] {
        let file = try File(path: path)
        return try file.rows(0..<file.count)
    }

    /// An open cache: its row count, and any range of rows read on demand.
    public final class File: @unchecked Sendable {
        public let path: String
        public let count: Int
        private let handle: FileHandle

        public init(path: String) throws(CriteoError) {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable("cannot open \(path)") }
            self.path = path
            self.handle = handle
            let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
            try? handle.seek(toOffset: 0)
            let header = [UInt8]((try? handle.read(upToCount: headerBytes)) ?? Data())
            guard header.count == headerBytes, Array(header[0..<8]) == magic else { throw .unreadable("\(path) is not a Coppice Criteo cache") }
            let version = header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
            guard version == 1 else { throw .unreadable("\(path): cache version \(version), expected 1") }
            let rows = header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt64.self)) }
            guard rows <= UInt64((size - headerBytes) / rowBytes), size == headerBytes + Int(rows) * rowBytes else {
                throw .unreadable(
                    "\(path): header says \(rows) rows (\(UInt64(headerBytes) &+ rows &* UInt64(rowBytes)) bytes), the file has \(size) bytes")
            }
            count = Int(rows)
        }

        deinit { try? handle.close() }

        /// Rows `range` (within 0..<count).
        public func rows(_ range: Range<Int>) throws(CriteoError) -> [CriteoRow] {
            guard range.lowerBound >= 0, range.upperBound <= count else { throw .unreadable("\(path): rows \(range) outside 0..<\(count)") }
            let bytes: [UInt8]
            do {
                try handle.seek(toOffset: UInt64(headerBytes + range.lowerBound * rowBytes))
                bytes = [UInt8](try handle.read(upToCount: range.count * rowBytes) ?? Data())
            } catch {
                throw .unreadable("\(path): \(error)")
            }
            guard bytes.count == range.count * rowBytes else { throw .unreadable("\(path): short read at rows \(range)") }
            let rows = decode(bytes, count: range.count)
            // A cache holds rows that parsed: a label of 0 or 1, finite features, ids of 0 or more.
            for (r, row) in rows.enumerated() {
                // The message is built only for a bad row: this loop runs over every row training reads.
                func bad(_ what: String) -> CriteoError { .unreadable("\(path): row \(range.lowerBound + r): \(what)") }
                guard row.label == 0 || row.label == 1 else { throw bad("label \(row.label), expected 0 or 1") }
                if let i = row.dense.firstIndex(where: { !$0.isFinite }) {
                    throw bad("dense feature I\(i + 1) is \(row.dense[i]), expected a finite number")
                }
                if let i = row.sparse.firstIndex(where: { $0 < 0 }) {
                    throw bad("categorical feature C\(i + 1) is \(row.sparse[i]), expected an id of 0 or more")
                }
            }
            return rows
        }

        func decode(_ bytes: [UInt8], count: Int) -> [CriteoRow] {
            bytes.withUnsafeBytes { raw in
                (0..<count).map { r in
                    var offset = r * rowBytes
                    func float() -> Float {
                        defer { offset += 4 }
                        return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    }
                    let label = float()
                    let dense = (0..<CriteoRow.denseCount).map { _ in float() }
                    let sparse = (0..<CriteoRow.sparseCount).map { _ -> Int in
                        defer { offset += 8 }
                        return Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                    }
                    return CriteoRow(label: label, dense: dense, sparse: sparse)
                }
            }
        }
    }

    /// The reference's split of the chronological Kaggle file (`data_split='train'`): 7 equal "days";
    /// days 1–6 train, the 7th is halved into validation (first half) and test.
    public static func daySplit<T>(_ rows: [T], days: Int = 7) -> (train: ArraySlice<T>, validation: ArraySlice<T>, test: ArraySlice<T>) {
        let (train, validation, test) = dayRanges(count: rows.count, days: days)
        return (rows[train], rows[validation], rows[test])
    }

    /// The index ranges of `daySplit` for `count` rows.
    public static func dayRanges(count: Int, days: Int = 7) -> (train: Range<Int>, validation: Range<Int>, test: Range<Int>) {
        let perDay = count / days
        let trainEnd = perDay * (days - 1)
        let validationEnd = trainEnd + (count - trainEnd) / 2
        return (0..<trainEnd, trainEnd..<validationEnd, validationEnd..<count)
    }

    static func header(count: Int) -> Data {
        var data = Data(magic)
        withUnsafeBytes(of: UInt32(1).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(count).littleEndian) { data.append(contentsOf: $0) }
        return data
    }

    static func encode(_ rows: [CriteoRow]) -> Data {
        var data = Data()
        data.reserveCapacity(rows.count * rowBytes)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        for row in rows {
            append(row.label.bitPattern)
            for value in row.dense { append(value.bitPattern) }
            for id in row.sparse { append(Int64(id)) }
        }
        return data
    }
}
