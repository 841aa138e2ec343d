import CoppiceFormats
import CoppiceRuns
import CoppiceTensor
import Foundation

/// The checkpoints of `coppice online` and `coppice dlrm`: one safetensors file of tensors with the
/// run's state as JSON in its metadata (`state`), marked by `format`; written atomically.
enum CheckpointFile {
    static func write(_ tensors: [String: Tensor], state: some Encodable, format: String, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let json = String(decoding: try encoder.encode(state), as: UTF8.self)
            try Safetensors.write(tensors, metadata: ["format": format, "state": json], to: path)
        } catch {
            throw TrainingError.checkpoint("cannot write \(path): \(error)")
        }
    }

    /// The tensors and state of a checkpoint of `format`; a file that is not one is an error naming it.
    static func read<State: Decodable>(_ path: String, format: String, as: State.Type) throws -> (tensors: [String: Tensor], state: State) {
        let file: SafetensorsFile
        let tensors: [String: Tensor]
        do {
            file = try SafetensorsFile(path: path)
            tensors = try file.tensors()
        } catch {
            throw TrainingError.checkpoint("cannot resume from \(path): \(error)")
        }
        guard file.metadata["format"] == format, let json = file.metadata["state"],
            let state = try? JSONDecoder().decode(State.self, from: Data(json.utf8))
        else {
            throw TrainingError.checkpoint("\(path) is not a \(format) checkpoint")
        }
        return (tensors, state)
    }
}
