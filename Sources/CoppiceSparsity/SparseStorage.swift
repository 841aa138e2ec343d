import CoppiceFormats
import CoppiceKernels
import CoppiceTensor
import Foundation

/// Sparse weights in safetensors: a tensor stored sparse becomes three entries, `NAME.csr_values`
/// (F32), `NAME.csr_column_indices` and `NAME.csr_row_starts` (I32), over the weight viewed as
/// [shape[0], rest], and `__metadata__["coppice.sparse"]` records each one's format and shape. Other
/// tensors stay dense. Any safetensors reader can open the file; `read` gives back the exact weights.
public enum SparseStorage {
    public static let metadataKey = "coppice.sparse"

    struct Entry: Codable { var format: String; var shape: [Int] }

    /// Writes `tensors`, storing as CSR every one with at least `minimumSparsity` of exact zeros.
    public static func write(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], minimumSparsity: Double = 0.5,
        to path: String
    ) throws(FormatError) {
        var dense: [String: Tensor] = [:]
        var integers: [String: (shape: [Int], values: [Int32])] = [:]
        var entries: [String: Entry] = [:]
        for (name, tensor) in tensors {
            let values = tensor.scalars
            let zeros = values.filter { $0 == 0 }.count
            guard tensor.rank >= 1, !values.isEmpty, Double(zeros) / Double(values.count) >= minimumSparsity else {
                dense[name] = tensor
                continue
            }
            let rows = tensor.shape[0]
            let csr = values.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: rows, columns: values.count / max(rows, 1)) }
            dense[name + ".csr_values"] = Tensor(csr.values)
            integers[name + ".csr_column_indices"] = ([csr.columnIndices.count], csr.columnIndices)
            integers[name + ".csr_row_starts"] = ([csr.rowStarts.count], csr.rowStarts)
            entries[name] = Entry(format: "csr", shape: tensor.shape)
        }
        var meta = metadata
        if !entries.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            meta[metadataKey] = String(decoding: (try? encoder.encode(entries)) ?? Data(), as: UTF8.self)
        }
        try Safetensors.write(dense, integers: integers, metadata: meta, to: path)
    }

    /// Every tensor of a file written by `write` (or any safetensors file), sparse ones densified.
    public static func read(_ path: String) throws(FormatError) -> [String: Tensor] {
        let file = try SafetensorsFile(path: path)
        var entries: [String: Entry] = [:]
        if let json = file.metadata[metadataKey] {
            guard let decoded = try? JSONDecoder().decode([String: Entry].self, from: Data(json.utf8)) else {
                throw .malformed(path: path, reason: "\(metadataKey) metadata is not a map of {format, shape}")
            }
            entries = decoded
        }
        var result: [String: Tensor] = [:]
        var consumed = Set<String>()
        for (name, entry) in entries {
            guard entry.format == "csr", let rows = entry.shape.first, rows > 0, entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw .malformed(path: path, reason: "'\(name)': unsupported sparse format '\(entry.format)' or shape \(entry.shape)")
            }
            let starts = try file.int32s(name + ".csr_row_starts")
            // The dense matrix is allocated from the metadata's shape: its rows must be the stored row
            // starts', and its size must not overflow or exceed 2^32 elements.
            var elements = 1
            for d in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 32 else {
                    throw .malformed(path: path, reason: "'\(name)': shape \(entry.shape) is larger than 2^32 elements")
                }
                elements = product
            }
            guard starts.count == rows + 1 else {
                throw .malformed(path: path, reason: "'\(name)': shape \(entry.shape) has \(rows) rows, the row starts give \(starts.count - 1)")
            }
            let columns = elements / rows
            let values = try file.tensor(name + ".csr_values").scalars
            let indices = try file.int32s(name + ".csr_column_indices")
            guard starts.first == 0, Int(starts.last!) == values.count, indices.count == values.count,
                zip(starts, starts.dropFirst()).allSatisfy({ $0 <= $1 }), indices.allSatisfy({ $0 >= 0 && Int($0) < columns })
            else {
                throw .malformed(path: path, reason: "'\(name)': CSR arrays do not describe a \(rows)×\(columns) matrix")
            }
            var dense = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows {
                for k in Int(starts[r])..<Int(starts[r + 1]) { dense[r * columns + Int(indices[k])] = values[k] }
            }
            result[name] = Tensor(dense).reshaped(entry.shape)
            consumed.formUnion([name + ".csr_values", name + ".csr_column_indices", name + ".csr_row_starts"])
        }
        for name in file.names where !consumed.contains(name) { result[name] = try file.tensor(name) }
        return result
    }
}
