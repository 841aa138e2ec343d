import CoppiceData
import CoppiceTensor

/// A small two-class problem the LeNet-style model can learn: bright top half versus bright bottom half.
public func syntheticImages(count: Int, seed: UInt64) -> ImageDataset {
    var rng = RandomGenerator(seed: seed)
    var pixels: [UInt8] = [], labels: [Int] = []
    for i in 0..<count {
        let label = i % 2
        for y in 0..<8 {
            for _ in 0..<8 {
                let bright = (y < 4) == (label == 0)
                pixels.append(UInt8(min(255, Int(bright ? 180 : 40) + Int(rng.next() % 60))))
            }
        }
        labels.append(label)
    }
    return ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 8, width: 8, classCount: 2)
}
