import Foundation

/// Criteo display-advertising rows (Kaggle challenge layout): a click label, 13 integer features and
/// 26 categorical features given as hexadecimal hashes. Reads the original tab-separated file (no
/// header) and the comma-separated form with a header line (`shared/data/criteo_sample.csv`).
///
/// Preprocessing follows the DLRM reference (`facebookresearch/dlrm`, `data_utils.py`): a missing
/// integer is 0, negatives are clamped to 0, and the dense input is log(x + 1); a categorical value is
/// its hash read as a hexadecimal number (missing: 0) modulo the table size (`--max-ind-range`).
public struct CriteoRow: Sendable, Equatable {
    public static let denseCount = 13, sparseCount = 26
    public var label: Float
    /// log(max(x, 0) + 1) for each of the 13 integer features.
    public var dense: [Float]
    /// hex(value) mod table size for each of the 26 categorical features.
    public var sparse: [Int]
}

public enum CriteoError: Error, Equatable, CustomStringConvertible {
    /// A row that does not parse: its 1-based line number and what was wrong.
    case malformedRow(line: Int, reason: String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .malformedRow(let line, let reason): "Criteo line \(line): \(reason)"
        case .unreadable(let message): message
        }
    }
}

public struct CriteoReader: Sendable {
    public enum OnError: String, Sendable, CaseIterable {
        /// Skip the row and count it (with its line number in `Result.errors`).
        case skip
        /// Stop at the first malformed row.
        case fail
    }

    /// Categorical values are reduced modulo this (≤ 0: kept whole).
    public var tableSize: Int
    public var onError: OnError

    public init(tableSize: Int = 10_000_000, onError: OnError = .skip) {
        self.tableSize = tableSize
        self.onError = onError
    }

    /// Every row of a file read as a stream of lines (bounded memory apart from the rows themselves),
    /// and the rows skipped.
    public struct Result: Sendable {
        public var rows: [CriteoRow]
        public var errors: [CriteoError]
    }

    /// Reads a whole Criteo file: tab-separated without header, or comma-separated with a header
    /// line starting with `label`. Empty lines are ignored; CRLF line ends are accepted.
    public func read(path: String, limit: Int? = nil) throws(CriteoError) -> Result {
        var rows: [CriteoRow] = []
        let errors = try forEachRow(path: path, limit: limit) { rows.append($0) }
        return Result(rows: rows, errors: errors)
    }

    /// Streams a Criteo file row by row in bounded memory (1 MiB of text at a time): `body` gets each
    /// parsed row; the malformed rows are returned (the first `keptErrors` of them; `.fail` throws at
    /// the first). Stops after `limit` rows.
    @discardableResult
    public func forEachRow(
        path: String, limit: Int? = nil, keptErrors: Int = 1000,
        _ body: (CriteoRow) throws(CriteoError) -> Void
    ) throws(CriteoError) -> [CriteoError] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable("cannot open \(path)") }
        defer { try? handle.close() }
        var errors: [CriteoError] = []
        var pending = Data(), lineNumber = 0, separator: UInt8?, rows = 0
        func consume(_ line: Data) throws(CriteoError) {
            lineNumber += 1
            var bytes = line
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if bytes.isEmpty { return }
            let text = String(decoding: bytes, as: UTF8.self)
            if separator == nil {
                separator = text.contains("\t") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
                if text.hasPrefix("label") { return }
            }
            let row: CriteoRow
            do {
                row = try parse(text, separator: Character(UnicodeScalar(separator!)), line: lineNumber)
            } catch {
                try refuse(error)
                return
            }
            try body(row)
            rows += 1
        }
        func refuse(_ error: CriteoError) throws(CriteoError) {
            if onError == .fail { throw error }
            if errors.count < keptErrors { errors.append(error) }
        }
        // Inside a line already refused as too long: its bytes are dropped up to its newline.
        var discarding = false
        while limit.map({ rows < $0 }) ?? true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if discarding { discarding = false } else { try consume(pending[start..<newline]) }
                start = newline + 1
                if let limit, rows >= limit { return errors }
            }
            pending = Data(pending[start...])
            if !discarding, pending.count > Self.maximumLineBytes {
                lineNumber += 1
                try refuse(.malformedRow(line: lineNumber, reason: "longer than \(Self.maximumLineBytes) bytes"))
                discarding = true
            }
            if discarding { pending.removeAll() }
        }
        if !pending.isEmpty, !discarding, limit.map({ rows < $0 }) ?? true { try consume(pending) }
        return errors
    }

    /// A Criteo line is under 1 KiB; a file with no newline for this long is not Criteo text, and
    /// reading on would hold all of it in memory.
    public static let maximumLineBytes = 1 << 20

    /// One line's fields: label, 13 integers, 26 hexadecimal hashes.
    public func parse(_ line: String, separator: Character, line number: Int) throws(CriteoError) -> CriteoRow {
        let fields = line.split(separator: separator, omittingEmptySubsequences: false)
        let expected = 1 + CriteoRow.denseCount + CriteoRow.sparseCount
        guard fields.count == expected else {
            throw .malformedRow(line: number, reason: "expected \(expected) fields, found \(fields.count)")
        }
        guard let label = Float(fields[0]), label == 0 || label == 1 else {
            throw .malformedRow(line: number, reason: "label must be 0 or 1, found '\(fields[0])'")
        }
        var dense = [Float](repeating: 0, count: CriteoRow.denseCount)
        for i in 0..<CriteoRow.denseCount {
            let field = fields[1 + i]
            if field.isEmpty { continue }
            guard let value = Double(field), value.isFinite else {
                throw .malformedRow(line: number, reason: "integer feature I\(i + 1) is '\(field)', expected a number")
            }
            dense[i] = Float(log1p(max(value, 0)))
        }
        var sparse = [Int](repeating: 0, count: CriteoRow.sparseCount)
        for i in 0..<CriteoRow.sparseCount {
            let field = fields[1 + CriteoRow.denseCount + i]
            if field.isEmpty { continue }
            guard field.count <= 16, let hash = UInt64(field, radix: 16) else {
                throw .malformedRow(line: number, reason: "categorical feature C\(i + 1) is '\(field)', expected up to 16 hexadecimal digits")
            }
            sparse[i] = tableSize > 0 ? Int(hash % UInt64(tableSize)) : Int(truncatingIfNeeded: hash)
        }
        return CriteoRow(label: label, dense: dense, sparse: sparse)
    }
}
