/// The CTR datasets that `coppice dlrm` and `coppice online` read by name.
public enum CTRDatasetName: String, CaseIterable, Codable, Sendable {
    /// MovieLens-100K from `.data/ml-100k` (scripts/fetch-data.sh).
    case movieLens100K = "movielens-100k"
    /// The Criteo-schema generator (`SyntheticCTR`).
    case synthetic
    /// The same features, clicks drawn from a wide random teacher DLRM (`SyntheticTeacher`).
    case syntheticTeacher = "synthetic-teacher"
    /// The Criteo Kaggle file (`train.txt` or its `.cpcache`).
    case criteoKaggle = "criteo-kaggle"

    /// The generated streams (`SyntheticCTR`).
    public var isSynthetic: Bool { self == .synthetic || self == .syntheticTeacher }
}
