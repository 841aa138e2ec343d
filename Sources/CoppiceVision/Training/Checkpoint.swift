import CoppiceFormats
import CoppiceNN
import CoppiceOptimizers
import CoppiceRuns
import CoppiceTensor
import Foundation

/// A training checkpoint in one safetensors file: model state under `model.`, optimizer state under
/// `optimizer.`, and in `__metadata__` the configuration, the epoch and step reached, the history of
/// epoch records and the state of every random generator inside the model (dropout).
/// Written atomically, so an interrupted write leaves the previous checkpoint loadable.
public struct Checkpoint {
    public static let format = "coppice-checkpoint-1"

    public var configuration: TrainingConfiguration
    public var epoch: Int
    public var step: Int
    public var history: [EpochRecord]
    public var model: [String: Tensor]
    public var optimizer: [String: Tensor]
    public var generators: [String: [UInt64]]
    /// Pruning masks by parameter name (empty for dense runs).
    public var masks: [String: Tensor] = [:]

    public func write(to path: String) throws(TrainingError) {
        var tensors: [String: Tensor] = [:]
        for (name, value) in model { tensors["model." + name] = value }
        for (name, value) in optimizer { tensors["optimizer." + name] = value }
        for (name, value) in masks { tensors["mask." + name] = value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let config = try? encoder.encode(configuration), let records = try? encoder.encode(history),
            let rngs = try? encoder.encode(generators.mapValues { $0.map(String.init) })
        else {
            throw .checkpoint("could not encode the run's metadata")
        }
        let metadata = [
            "format": Self.format, "epoch": String(epoch), "step": String(step),
            "config": String(decoding: config, as: UTF8.self), "history": String(decoding: records, as: UTF8.self),
            "generators": String(decoding: rngs, as: UTF8.self),
        ]
        do {
            try Safetensors.write(tensors, metadata: metadata, to: path)
        } catch {
            throw .checkpoint(error.description)
        }
    }

    public static func read(from path: String) throws(TrainingError) -> Checkpoint {
        let file: SafetensorsFile
        let tensors: [String: Tensor]
        do {
            file = try SafetensorsFile(path: path)
            tensors = try file.tensors()
        } catch {
            throw .checkpoint(error.description)
        }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .checkpoint("\(path): expected a \(format) file, found format '\(meta["format"] ?? "none")'")
        }
        let decoder = JSONDecoder()
        guard let epoch = meta["epoch"].flatMap({ Int($0) }), let step = meta["step"].flatMap({ Int($0) }),
            let config = meta["config"].flatMap({ try? decoder.decode(TrainingConfiguration.self, from: Data($0.utf8)) }),
            let history = meta["history"].flatMap({ try? decoder.decode([EpochRecord].self, from: Data($0.utf8)) }),
            let rngs = meta["generators"].flatMap({ try? decoder.decode([String: [String]].self, from: Data($0.utf8)) })
        else {
            throw .checkpoint("\(path): metadata is missing or unreadable (epoch, step, config, history, generators)")
        }
        var model: [String: Tensor] = [:], optimizer: [String: Tensor] = [:], masks: [String: Tensor] = [:]
        for (name, value) in tensors {
            if name.hasPrefix("model.") { model[String(name.dropFirst(6))] = value }
            if name.hasPrefix("optimizer.") { optimizer[String(name.dropFirst(10))] = value }
            if name.hasPrefix("mask.") { masks[String(name.dropFirst(5))] = value }
        }
        let generators = rngs.compactMapValues { words in words.compactMap { UInt64($0) } }
        return Checkpoint(
            configuration: config, epoch: epoch, step: step, history: history, model: model,
            optimizer: optimizer, generators: generators, masks: masks)
    }
}

extension Module {
    /// The state of every dropout generator in the tree, by module name.
    func generatorStates() -> [String: [UInt64]] {
        var states: [String: [UInt64]] = [:]
        var visitor = ParameterVisitor(
            onParameter: { _, _, _ in },
            onModule: { name, module in
                if let dropout = module as? Dropout { states[name] = dropout.generator.state }
            })
        visit(&visitor)
        return states
    }

    func restoreGenerators(_ states: [String: [UInt64]]) {
        var visitor = ParameterVisitor(
            onParameter: { _, _, _ in },
            onModule: { name, module in
                if let dropout = module as? Dropout, let words = states[name], let generator = RandomGenerator(state: words) {
                    dropout.generator = generator
                }
            })
        visit(&visitor)
    }
}
