import Foundation

/// MovieLens-100K (the RecBole copy fetched by scripts/fetch-data.sh: `ml-100k.inter`, `.user`,
/// `.item`) as a CTR task: label = rating ≥ 4; categorical user, item, gender, occupation, zip prefix
/// (first 3 characters), genres (multi-hot), hour and weekday of the rating (UTC); dense age / 100
/// and (release year − 1900) / 100 (0 when unknown); sorted by timestamp (stable), 213 days.
public enum MovieLens100K {
    public static let sparseNames = ["user", "item", "gender", "occupation", "zip_prefix", "genres", "hour", "weekday"]
    public static let denseNames = ["age", "release_year"]

    public static func load(directory: String) throws(CTRDataError) -> CTRDataset {
        let users = try table(directory + "/ml-100k.user", columns: 5)
        let items = try table(directory + "/ml-100k.item", columns: 4)
        let ratings = try table(directory + "/ml-100k.inter", columns: 4)
        func vocabulary(_ values: [String]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: Set(values).sorted().enumerated().map { ($0.element, $0.offset) })
        }
        let userIds = vocabulary(users.map { $0.fields[0] }), itemIds = vocabulary(items.map { $0.fields[0] })
        let genders = vocabulary(users.map { $0.fields[2] }), occupations = vocabulary(users.map { $0.fields[3] })
        let zips = vocabulary(users.map { String($0.fields[4].prefix(3)) })
        let genres = vocabulary(items.flatMap { $0.fields[3].split(separator: " ").map(String.init) })
        var userFeatures: [String: (sparse: [[Int]], age: Float)] = [:]
        for row in users {
            guard let age = Float(row.fields[1]) else { throw .malformed(file: "ml-100k.user", line: row.line, reason: "age '\(row.fields[1])'") }
            userFeatures[row.fields[0]] = (
                [
                    [userIds[row.fields[0]]!], [genders[row.fields[2]]!], [occupations[row.fields[3]]!],
                    [zips[String(row.fields[4].prefix(3))]!],
                ], age / 100
            )
        }
        var itemFeatures: [String: (item: Int, genres: [Int], year: Float)] = [:]
        for row in items {
            let year = Float(row.fields[2]).map { ($0 - 1900) / 100 } ?? 0
            itemFeatures[row.fields[0]] = (itemIds[row.fields[0]]!, row.fields[3].split(separator: " ").map { genres[String($0)]! }, year)
        }
        var examples: [CTRExample] = []
        examples.reserveCapacity(ratings.count)
        for row in ratings {
            guard let user = userFeatures[row.fields[0]], let item = itemFeatures[row.fields[1]] else {
                throw .malformed(file: "ml-100k.inter", line: row.line, reason: "unknown user '\(row.fields[0])' or item '\(row.fields[1])'")
            }
            guard let rating = Float(row.fields[2]), let time = Double(row.fields[3]), time.isFinite else {
                throw .malformed(file: "ml-100k.inter", line: row.line, reason: "rating '\(row.fields[2])' or timestamp '\(row.fields[3])'")
            }
            let seconds = Int(time)
            let hour = (seconds / 3600) % 24, weekday = (seconds / 86400 + 4) % 7  // 1970-01-01 was a Thursday: 0 = Sunday
            let sparse = [user.sparse[0], [item.item], user.sparse[1], user.sparse[2], user.sparse[3], item.genres, [hour], [weekday]]
            examples.append(CTRExample(label: rating >= 4 ? 1 : 0, dense: [user.age, item.year], sparse: sparse, timestamp: seconds))
        }
        let order = examples.indices.sorted { (examples[$0].timestamp, $0) < (examples[$1].timestamp, $1) }
        return CTRDataset(
            denseNames: denseNames, sparseNames: sparseNames,
            tableSizes: [userIds.count, itemIds.count, genders.count, occupations.count, zips.count, genres.count, 24, 7],
            examples: order.map { examples[$0] })
    }

    /// The rows of a RecBole atomic file (tab-separated, a `name:type` header), each with its line number.
    static func table(_ path: String, columns: Int) throws(CTRDataError) -> [(line: Int, fields: [String])] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .missingFile(path) }
        let name = (path as NSString).lastPathComponent
        var rows: [(Int, [String])] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.hasSuffix("\r") ? line.dropLast() : line
            if index == 0 || text.isEmpty { continue }
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == columns else {
                throw .malformed(file: name, line: index + 1, reason: "expected \(columns) tab-separated fields, found \(fields.count)")
            }
            rows.append((index + 1, fields))
        }
        return rows
    }
}
