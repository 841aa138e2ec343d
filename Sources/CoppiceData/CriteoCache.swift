import CoppiceFormats
import Foundation

/// A binary cache of parsed Criteo rows, so that re-reading skips text parsing: a header
/// ("CPCRITEO", version 1, row count) then per row the label (F32), 13 dense values (F32) and 26 ids
/// (I64), little-endian. Written atomically; a truncated or foreign file is refused with its reason.
public enum CriteoCache {
    static let magic = Array("CPCRITEO".utf8)
    static let rowBytes = 4 * (1 + CriteoRow.denseCount) + 8 * CriteoRow.sparseCount

    public static func write(_ rows: [CriteoRow], to path: String) throws {
        var data = Data(magic)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        append(UInt32(1))
        append(UInt64(rows.count))
        data.reserveCapacity(data.count + rows.count * rowBytes)
        for row in rows {
            append(row.label.bitPattern)
            for value in row.dense { append(value.bitPattern) }
            for id in row.sparse { append(Int64(id)) }
        }
        try AtomicFile.write(data, to: path)
    }

    public static func read(from path: String) throws(CriteoError) -> [CriteoRow] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable("cannot open \(path)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { throw .unreadable("\(path) is not a Coppice Criteo cache") }
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        guard load(8, UInt32.self) == 1 else { throw .unreadable("\(path): cache version \(load(8, UInt32.self)), expected 1") }
        let count = Int(load(12, UInt64.self))
        guard count <= (bytes.count - 20) / rowBytes, bytes.count == 20 + count * rowBytes else {
            throw .unreadable("\(path): header says \(count) rows (\(20 + count * rowBytes) bytes), the file has \(bytes.count) bytes")
        }
        return (0..<count).map { r in
            var offset = 20 + r * rowBytes
            func float() -> Float { defer { offset += 4 }; return Float(bitPattern: load(offset, UInt32.self)) }
            let label = float()
            let dense = (0..<CriteoRow.denseCount).map { _ in float() }
            let sparse = (0..<CriteoRow.sparseCount).map { _ -> Int in defer { offset += 8 }; return Int(load(offset, Int64.self)) }
            return CriteoRow(label: label, dense: dense, sparse: sparse)
        }
    }

    /// The reference's split of the chronological Kaggle file (`data_split='train'`): 7 equal "days";
    /// days 1–6 train, the 7th is halved into validation (first half) and test.
    public static func daySplit<T>(_ rows: [T], days: Int = 7) -> (train: ArraySlice<T>, validation: ArraySlice<T>, test: ArraySlice<T>) {
        let perDay = rows.count / days
        let trainEnd = perDay * (days - 1)
        let validationEnd = trainEnd + (rows.count - trainEnd) / 2
        return (rows[..<trainEnd], rows[trainEnd..<validationEnd], rows[validationEnd...])
    }
}
