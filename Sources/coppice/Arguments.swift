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
extension LlamaPruning.Method: ExpressibleByArgument {}
extension SparseStorage.Layout: ExpressibleByArgument {}

/// GGUF matrix storage as an option value, by name: `GGUFTensorType`'s raw values are GGML's type
/// numbers, which ArgumentParser prints as the default of a raw-valued enum ("default: 0").
enum MatrixStorage: String, CaseIterable, ExpressibleByArgument {
    case f32, f16, bf16, q8_0, q4_0, q4_1

    var type: GGUFTensorType { GGUFTensorType(name: rawValue)! }
}

/// The numbers of a comma-separated option value ("0.3,0.5, 0.7"); nil when an entry is not a number.
func numberList(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    return values.contains(nil) ? nil : values.map { $0! }
}

/// A line on standard error (progress and notes; results go to standard output).
func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
