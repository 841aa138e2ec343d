/// The CTR datasets that `coppice dlrm` and `coppice online` read by name.
public enum CTRDatasetName: String, CaseIterable, Codable, Sendable {
    /// MovieLens-100K from `.data/ml-100k` (scripts/fetch-data.sh).
    case movieLens100K = "movielens-100k"
    /// The Criteo-schema generator (`SyntheticCTR`).
    case synthetic
    /// The Criteo Kaggle file (`train.txt` or its `.cpcache`).
    case criteoKaggle = "criteo-kaggle"
}
