import CoppiceNN
import CoppiceOptimizers
import CoppiceTensor
import Testing

/// The README's library example, verbatim, so that it keeps compiling and running.
@Test func readmeLibraryExample() throws {
    var rng = RandomGenerator(seed: 0)
    let model = Sequential([
        Conv2D(inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1, using: &rng), ReLU(),
        MaxPool2D(kernelSize: 2), Flatten(),
        Linear(inFeatures: 8 * 14 * 14, outFeatures: 10, using: &rng),
    ])
    let optimizer = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
    let images = Tensor.normal([16, 1, 28, 28], using: &rng)
    let labels = (0..<16).map { $0 % 10 }

    optimizer.zeroGrad()
    let loss = try Loss.crossEntropy(model(images), labels: labels)
    loss.backward()
    optimizer.step()
    let logits = withoutGradient { model(images) }  // inference: no tape at all

    #expect(logits.shape == [16, 10] && loss.item.isFinite && !logits.requiresGrad)
}
