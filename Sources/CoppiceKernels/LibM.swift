#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Scalar libm under names that do not collide with the kernels' own `exp`/`tanh` vector helpers.
@inline(__always) func libm_exp(_ x: Float) -> Float { expf(x) }
@inline(__always) func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libm_log(_ x: Float) -> Float { logf(x) }
@inline(__always) func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) func libm_tanh(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func libm_tanh(_ x: Double) -> Double { tanh(x) }
