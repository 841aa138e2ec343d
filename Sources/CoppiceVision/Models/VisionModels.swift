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
    /// A small VGG-style net of 3×3 convolutions for 28×28 inputs, every convolution Winograd-eligible:
    /// [32, 32, M, 64, 64, M] with batch norm, then FC 256 → FC classes.
    case vggFMNIST = "vgg-fmnist"
    /// VGG-nagadomi (Yu et al. 2019's CIFAR-10 model, papers.md §1.7): 3×3 convolutions with batch norm
    /// [64, 64, M, 128, 128, M, 256, 256, 256, 256, M], then FC 1024 → FC 1024 → FC classes with
    /// dropout 0.5.
    case vggNagadomi = "vgg-nagadomi"
    /// ConvPool-CNN-C (Springenberg et al. 2015; the CIFAR-100 model of Yu et al.): three stages of 3×3
    /// convolutions (96, 192 channels) with 3×3/2 max pooling, then 3×3, 1×1, 1×1 convolutions and
    /// global average pooling.
    case convPoolCNNC = "convpool-cnn-c"
    /// ResNet-18 with every stride-2 3×3 convolution replaced by 2×2 max pooling and a stride-1 3×3
    /// convolution, so that all 3×3 convolutions can run as Winograd (Yu et al.'s ImageNet model).
    case resnet18Max = "resnet18-max"

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
                layers += [
                    Conv2D(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1, bias: false, using: &rng),
                    BatchNorm2D(features: width), ReLU(),
                ]
                if poolAfter { layers.append(MaxPool2D(kernelSize: 2)) }
                channels = width
            }
            layers += [GlobalAvgPool2D(), Linear(inFeatures: channels, outFeatures: classes, using: &rng)]
            return Sequential(layers)
        case .vggFMNIST:
            var layers: [Layer] = []
            var channels = inChannels
            for (width, poolAfter) in [(32, false), (32, true), (64, false), (64, true)] {
                layers += [
                    Conv2D(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1, bias: false, using: &rng),
                    BatchNorm2D(features: width), ReLU(),
                ]
                if poolAfter { layers.append(MaxPool2D(kernelSize: 2)) }
                channels = width
            }
            let pooled = imageSize / 4
            return Sequential(
                layers + [
                    Flatten(), Linear(inFeatures: channels * pooled * pooled, outFeatures: 256, using: &rng), ReLU(),
                    Linear(inFeatures: 256, outFeatures: classes, using: &rng),
                ])
        case .vggNagadomi:
            var layers: [Layer] = []
            var channels = inChannels, size = imageSize
            for width in [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0] {
                if width == 0 {
                    layers.append(MaxPool2D(kernelSize: 2))
                    size /= 2
                    continue
                }
                layers += [
                    Conv2D(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1, using: &rng),
                    BatchNorm2D(features: width), ReLU(),
                ]
                channels = width
            }
            return Sequential(
                layers + [
                    Flatten(),
                    Linear(inFeatures: channels * size * size, outFeatures: 1024, using: &rng), ReLU(), Dropout(probability: 0.5, seed: 1),
                    Linear(inFeatures: 1024, outFeatures: 1024, using: &rng), ReLU(), Dropout(probability: 0.5, seed: 2),
                    Linear(inFeatures: 1024, outFeatures: classes, using: &rng),
                ])
        case .convPoolCNNC:
            func block(_ from: Int, _ to: Int, kernel: Int, padding: Int, _ rng: inout RandomGenerator) -> [Layer] {
                [Conv2D(inChannels: from, outChannels: to, kernelSize: kernel, padding: padding, using: &rng), BatchNorm2D(features: to), ReLU()]
            }
            var layers: [Layer] = [Dropout(probability: 0.2, seed: 1)]
            layers +=
                block(inChannels, 96, kernel: 3, padding: 1, &rng) + block(96, 96, kernel: 3, padding: 1, &rng)
                + block(96, 96, kernel: 3, padding: 1, &rng)
            layers += [MaxPool2D(kernelSize: 3, stride: 2, padding: 1), Dropout(probability: 0.5, seed: 2)]
            layers +=
                block(96, 192, kernel: 3, padding: 1, &rng) + block(192, 192, kernel: 3, padding: 1, &rng)
                + block(192, 192, kernel: 3, padding: 1, &rng)
            layers += [MaxPool2D(kernelSize: 3, stride: 2, padding: 1), Dropout(probability: 0.5, seed: 3)]
            layers += block(192, 192, kernel: 3, padding: 0, &rng) + block(192, 192, kernel: 1, padding: 0, &rng)
            layers += [Conv2D(inChannels: 192, outChannels: classes, kernelSize: 1, using: &rng), ReLU(), GlobalAvgPool2D()]
            return Sequential(layers)
        case .resnet18Max:
            var layers: [Layer] = [
                Conv2D(inChannels: inChannels, outChannels: 64, kernelSize: 7, stride: 2, padding: 3, bias: false, using: &rng),
                BatchNorm2D(features: 64), ReLU(), MaxPool2D(kernelSize: 3, stride: 2, padding: 1),
            ]
            var channels = 64
            for (stage, width) in [64, 128, 256, 512].enumerated() {
                for index in 0..<2 {
                    let downsample = stage > 0 && index == 0
                    var body: [Layer] = downsample ? [MaxPool2D(kernelSize: 2)] : []
                    body += [
                        Conv2D(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1, bias: false, using: &rng),
                        BatchNorm2D(features: width), ReLU(),
                        Conv2D(inChannels: width, outChannels: width, kernelSize: 3, padding: 1, bias: false, using: &rng),
                        BatchNorm2D(features: width),
                    ]
                    let shortcut =
                        downsample
                        ? Sequential([
                            Conv2D(inChannels: channels, outChannels: width, kernelSize: 1, stride: 2, bias: false, using: &rng),
                            BatchNorm2D(features: width),
                        ]) : nil
                    layers.append(Residual(body: Sequential(body), shortcut: shortcut))
                    channels = width
                }
            }
            return Sequential(layers + [GlobalAvgPool2D(), Linear(inFeatures: channels, outFeatures: classes, using: &rng)])
        }
    }
}
