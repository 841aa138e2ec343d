import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceKernels
import CoppiceLLM
import CoppiceRec
import CoppiceRuns
import CoppiceSparsity
import CoppiceVision
import Foundation

// The library's closed sets of names as option values: `--help` lists them and a typo names the choices.
extension VisionModel: ExpressibleByArgument {}
extension DatasetName: ExpressibleByArgument {}
extension TrainingConfiguration.Schedule: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension PruningCriterion: ExpressibleByArgument {}
extension PruningRecipe.Scope: ExpressibleByArgument {}
extension PruningScheduleKind: ExpressibleByArgument {}
extension SpatialWinogradRecipe.Method: ExpressibleByArgument {}
extension AlternateGrowthPruning.Regrowth: ExpressibleByArgument {}
extension CTRDatasetName: ExpressibleByArgument {}
extension OnlineRun.SummaryFormat: ExpressibleByArgument {}
extension WeightMatrix.Format: ExpressibleByArgument {}
extension LlamaConfiguration.Preset: ExpressibleByArgument {}
extension SparseStorage.Layout: ExpressibleByArgument {}

extension GGUFTensorType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// The numbers of a comma-separated option value ("0.3,0.5, 0.7"); nil when an entry is not a number.
func numberList(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    return values.contains(nil) ? nil : values.map { $0! }
}

/// A line on standard error (progress and notes; results go to standard output).
func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
