import CoppiceNN
import CoppiceTensor

/// Adam (Kingma & Ba 2015) with bias correction; `decoupledWeightDecay` makes it AdamW
/// (Loshchilov & Hutter 2019: w ← w − lr·λ·w before the Adam step) instead of L2 added to the gradient.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount = 0
    private var firstMoments: [ObjectIdentifier: StateBuffer] = [:]
    private var secondMoments: [ObjectIdentifier: StateBuffer] = [:]

    public init(
        parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) {
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay of 0.01.
    public static func adamW(
        parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(
            parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        stepCount += 1
        let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        let correction1 = 1 - pow(b1, Float(stepCount)), correction2 = 1 - pow(b2, Float(stepCount))
        let stepSize = lr / correction1, rootCorrection2 = correction2.squareRoot()
        for parameter in parameters {
            let grad = parameter.grad ?? parameter.sparseGrad?.densified()
            guard let grad else { continue }
            let (m, v) = state(parameter)
            grad.withUnsafeBufferPointer { gb in
                parameter.update { wb in
                    let w = wb.baseAddress!, g = gb.baseAddress!, mp = m.pointer, vp = v.pointer
                    for i in 0..<wb.count {
                        var gi = g[i]
                        if decoupled { w[i] -= lr * wd * w[i] } else { gi += wd * w[i] }
                        mp[i] = b1 * mp[i] + (1 - b1) * gi
                        vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                        w[i] -= stepSize * mp[i] / (vp[i].squareRoot() / rootCorrection2 + eps)
                    }
                }
            }
            applyMask(parameter, states: [m, v])
        }
    }

    private func state(_ parameter: Parameter) -> (StateBuffer, StateBuffer) {
        let key = ObjectIdentifier(parameter)
        if let m = firstMoments[key], let v = secondMoments[key] { return (m, v) }
        let created = (StateBuffer(count: parameter.tensor.count), StateBuffer(count: parameter.tensor.count))
        firstMoments[key] = created.0
        secondMoments[key] = created.1
        return created
    }

    public func stateTensors() -> [String: Tensor] {
        saveBuffers(parameters, firstMoments, prefix: "exp_avg")
            .merging(saveBuffers(parameters, secondMoments, prefix: "exp_avg_sq")) { a, _ in a }
            .merging(["step": Tensor([Float(stepCount)])]) { a, _ in a }
    }

    public func loadState(_ state: [String: Tensor]) throws(OptimizerStateError) {
        try loadBuffers(state.filter { $0.key.hasPrefix("exp_avg.") }, parameters, &firstMoments, prefix: "exp_avg")
        try loadBuffers(state, parameters, &secondMoments, prefix: "exp_avg_sq")
        if let step = state["step"] { stepCount = Int(step.scalars.first ?? 0) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
