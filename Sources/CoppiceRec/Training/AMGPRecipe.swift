import CoppiceFormats
import CoppiceRuns
import Foundation

/// An AMGP schedule as a JSON recipe (`coppice dlrm --amgp-recipe FILE`):
/// `{"phases": [0, 0.5, 0], "phase_lengths": [0.3, 0.4, 0.3], "regrowth": "restore"}`.
public struct AMGPRecipe: Codable, Sendable, Equatable {
    public var phases: [Double]
    public var phaseLengths: [Double]?
    public var regrowth: AlternateGrowthPruning.Regrowth?

    enum CodingKeys: String, CodingKey { case phases, regrowth, phaseLengths = "phase_lengths" }

    public static func load(from path: String) throws -> AMGPRecipe {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidConfiguration("cannot read the AMGP recipe \(path)")
        }
        let recipe: AMGPRecipe
        do {
            recipe = try JSONDecoder().decode(AMGPRecipe.self, from: data)
        } catch {
            throw TrainingError.invalidConfiguration(
                "\(path) is not an AMGP recipe ({\"phases\": [...], \"phase_lengths\": [...], \"regrowth\": \"restore\"|\"fresh\"}): \(error)")
        }
        let unknown = JSONUnknownKeys.paths(in: data, decoded: recipe)
        guard unknown.isEmpty else { throw TrainingError.invalidConfiguration("\(path): unknown key(s) \(unknown.joined(separator: ", "))") }
        return recipe
    }
}
