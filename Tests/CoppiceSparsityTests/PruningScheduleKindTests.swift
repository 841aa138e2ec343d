import CoppiceFormats
import CoppiceSparsity
import CoppiceTensor
import Foundation
import Testing

@Suite struct PruningScheduleKindTests {
    @Test func namedSchedulesReachTheTargetWithinTwoThirdsOfTheRun() {
        for kind in PruningScheduleKind.allCases {
            let schedule = kind.schedule(sparsity: 0.8, totalSteps: 300)
            #expect(schedule.finalSparsity == 0.8, "\(kind)")
        }
        #expect(PruningScheduleKind.oneshot.schedule(sparsity: 0.5, totalSteps: 10) == .oneShot(sparsity: 0.5, step: 0))
        #expect(
            PruningScheduleKind.iterative.schedule(sparsity: 0.5, totalSteps: 300) == .iterative(sparsity: 0.5, start: 0, stages: 10, frequency: 20))
        #expect(
            PruningScheduleKind.gmp.schedule(sparsity: 0.5, totalSteps: 400) == .gradual(initial: 0, final: 0.5, start: 0, end: 260, frequency: 10))
        #expect(
            PruningScheduleKind.gmp.schedule(sparsity: 0.5, totalSteps: 3) == .gradual(initial: 0, final: 0.5, start: 0, end: 2, frequency: 1),
            "a short run still gets a valid ramp")
    }

    @Test func sparseStorageConvertsBothWays() throws {
        let directory = NSTemporaryDirectory() + "coppice-convert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let weight = try Tensor(shape: [4, 8], values: (0..<32).map { $0 % 4 == 0 ? Float($0) : 0 })
        try Safetensors.write(["w": weight], metadata: ["model": "m"], to: directory + "/dense.safetensors")
        let sparse = try SparseStorage.convert(directory + "/dense.safetensors", to: directory + "/sparse.safetensors", layout: .sparse)
        #expect(sparse.tensors == 1 && sparse.bytesBefore > 0 && sparse.bytesAfter > 0)
        _ = try SparseStorage.convert(directory + "/sparse.safetensors", to: directory + "/back.safetensors", layout: .dense)
        let back = try SafetensorsFile(path: directory + "/back.safetensors")
        #expect(try back.tensors()["w"]?.scalars == weight.scalars && back.metadata["model"] == "m")
    }
}
