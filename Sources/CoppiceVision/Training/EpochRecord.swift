/// One epoch's results.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var learningRate: Double
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, step, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
        case testAccuracy = "test_accuracy", learningRate = "lr"
    }
}
