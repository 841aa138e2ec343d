import CoppiceNN
import CoppiceTensor

/// The image classifiers `coppice train` offers, for inputs [N, channels, size, size].
public enum VisionModel: String, CaseIterable, Sendable, Codable {
    /// Flatten → Linear 512 → ReLU → Linear 512 → ReLU → Linear classes.
    case mlp
    /// LeNet-5's layout (LeCun et al. 1998: conv–pool–conv–pool–fc 120–fc 84–fc classes) with 3×3
    /// padded convolutions of 32 and 64 channels and max pooling.
    case lenet5
    /// A small VGG-style net of 3×3 convolutions (Simonyan & Zisserman 2015): [32, 32, pool, 64, 64,
    /// pool, 128, 128, pool] with batch norm, global average pooling and a linear classifier.
    case vggSmall = "vgg-small"

    /// Builds the model with a seeded initialization.
    public func make(inChannels: Int, imageSize: Int, classes: Int, using rng: inout RandomGenerator) -> Sequential {
        switch self {
        case .mlp:
            return Sequential([
                Flatten(),
                Linear(inFeatures: inChannels * imageSize * imageSize, outFeatures: 512, using: &rng), ReLU(),
                Linear(inFeatures: 512, outFeatures: 512, using: &rng), ReLU(),
                Linear(inFeatures: 512, outFeatures: classes, using: &rng),
            ])
        case .lenet5:
            let pooled = imageSize / 4
            return Sequential([
                Conv2D(inChannels: inChannels, outChannels: 32, kernelSize: 3, padding: 1, using: &rng), ReLU(), MaxPool2D(kernelSize: 2),
                Conv2D(inChannels: 32, outChannels: 64, kernelSize: 3, padding: 1, using: &rng), ReLU(), MaxPool2D(kernelSize: 2),
                Flatten(),
                Linear(inFeatures: 64 * pooled * pooled, outFeatures: 120, using: &rng), ReLU(),
                Linear(inFeatures: 120, outFeatures: 84, using: &rng), ReLU(),
                Linear(inFeatures: 84, outFeatures: classes, using: &rng),
            ])
        case .vggSmall:
            var layers: [Layer] = []
            var channels = inChannels
            for (width, poolAfter) in [(32, false), (32, true), (64, false), (64, true), (128, false), (128, true)] {
                layers += [Conv2D(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1, bias: false, using: &rng),
                           BatchNorm2D(features: width), ReLU()]
                if poolAfter { layers.append(MaxPool2D(kernelSize: 2)) }
                channels = width
            }
            layers += [GlobalAvgPool2D(), Linear(inFeatures: channels, outFeatures: classes, using: &rng)]
            return Sequential(layers)
        }
    }
}
