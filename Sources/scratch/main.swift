import CoppiceTensor
import CoppiceBench
import CoppiceKernels
let n = 1 << 22
var rng = RandomGenerator(seed: 1)
let a = Tensor.normal([n], using: &rng) * 10
print("tensor exp", Stopwatch.median { _ = a.exp() })
print("tensor relu", Stopwatch.median { _ = a.relu() })
print("alloc+touch", Stopwatch.median { let s = TensorStorage(count: n); for i in stride(from: 0, to: n, by: 1024) { s.pointer[i] = 1 } })
print("storage+kernel", Stopwatch.median { let s = TensorStorage(count: n); a.withUnsafeBufferPointer { Elementwise.unary(.exp, $0.baseAddress!, s.pointer, count: n) } })
