import Foundation

/// One example of a click-through-rate task: dense features, and for each categorical feature the
/// ids it takes (one, or several for multi-hot features such as genres).
public struct CTRExample: Sendable, Equatable {
    public var label: Float
    public var dense: [Float]
    public var sparse: [[Int]]
    /// Seconds since 1970 (UTC); examples of a dataset are in this order.
    public var timestamp: Int

    public init(label: Float, dense: [Float], sparse: [[Int]], timestamp: Int) {
        self.label = label
        self.dense = dense
        self.sparse = sparse
        self.timestamp = timestamp
    }
}

/// A CTR dataset in chronological order with its schema.
public struct CTRDataset: Sendable {
    public var denseNames: [String]
    public var sparseNames: [String]
    /// Distinct ids of each categorical feature (its embedding table's rows).
    public var tableSizes: [Int]
    public var examples: [CTRExample]

    public init(denseNames: [String], sparseNames: [String], tableSizes: [Int], examples: [CTRExample]) {
        self.denseNames = denseNames
        self.sparseNames = sparseNames
        self.tableSizes = tableSizes
        self.examples = examples
    }
}
