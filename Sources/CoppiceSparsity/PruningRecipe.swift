import CoppiceFormats
import Foundation

/// A whole pruning run as data: the method, the schedule, which parameters (name patterns) and whether
/// sparsity is per layer or shared globally. Saved beside every result so the run can be reproduced.
public struct PruningRecipe: Codable, Sendable, Equatable {
    public enum Scope: String, Codable, Sendable, CaseIterable { case layer, global }

    public var method: PruningMethod
    public var schedule: SparsitySchedule
    /// Parameter name patterns (`*` matches any run of characters, `?` one), e.g. `["*.weight"]`.
    public var parameters: [String]
    public var scope: Scope

    public init(method: PruningMethod, schedule: SparsitySchedule, parameters: [String] = ["*.weight"], scope: Scope = .layer) {
        self.method = method
        self.schedule = schedule
        self.parameters = parameters
        self.scope = scope
    }

    public func validate() throws(PruningError) {
        try schedule.validate()
        guard !parameters.isEmpty, !parameters.contains("") else { throw .invalidRecipe("no parameter patterns (or an empty one): \(parameters)") }
        guard method.norm > 0, method.norm.isFinite else { throw .invalidRecipe("norm must be positive and finite, got \(method.norm)") }
        switch method.granularity {
        case .element: break
        case .slices(let axis): guard axis >= 0 else { throw .invalidGranularity("slice axis must be 0 or more, got \(axis)") }
        case .blocks(let rows, let columns):
            guard rows > 0, columns > 0 else { throw .invalidGranularity("blocks must be positive, got \(rows)x\(columns)") }
        case .nOfM(let n, let m): guard n > 0, n < m else { throw .invalidGranularity("N:M needs 0 < N < M, got \(n):\(m)") }
        }
        if scope == .global {
            guard method.granularity == .element, method.criterion != .random else {
                throw .invalidRecipe("global scope ranks single weights by one score: use an element granularity and a non-random criterion")
            }
        }
    }

    public func encoded() throws(PruningError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch { throw .invalidRecipe("cannot encode: \(error)") }
    }

    public static func decode(_ data: Data, source: String = "recipe") throws(PruningError) -> PruningRecipe {
        let recipe: PruningRecipe
        do { recipe = try JSONDecoder().decode(PruningRecipe.self, from: data) } catch {
            throw .invalidRecipe("\(source): \(error)")
        }
        let unknown = JSONUnknownKeys.paths(in: data, decoded: recipe)
        guard unknown.isEmpty else { throw .invalidRecipe("\(source): unknown key(s) \(unknown.joined(separator: ", "))") }
        try recipe.validate()
        return recipe
    }

    /// Writes the recipe as JSON, atomically.
    public func save(to path: String) throws(PruningError) {
        do { try AtomicFile.write(try encoded(), to: path) } catch { throw .invalidRecipe("\(path): \(error)") }
    }

    public static func load(from path: String) throws(PruningError) -> PruningRecipe {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidRecipe("\(path): cannot read") }
        return try decode(data, source: path)
    }
}

/// Shell-style wildcard matching for parameter names.
func matches(_ name: String, pattern: String) -> Bool {
    let n = Array(name), p = Array(pattern)
    var i = 0, j = 0, star = -1, mark = 0
    while i < n.count {
        if j < p.count && (p[j] == "?" || p[j] == n[i]) {
            i += 1; j += 1
        } else if j < p.count && p[j] == "*" {
            star = j; mark = i; j += 1
        } else if star >= 0 {
            j = star + 1; mark += 1; i = mark
        } else {
            return false
        }
    }
    while j < p.count && p[j] == "*" { j += 1 }
    return j == p.count
}
