import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct TensorTests {
    @Test func constructionChecksCounts() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3] && t.scalars == [1, 2, 3, 4, 5, 6])
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 2], values: [1, 2, 3]) }
        do {
            _ = try Tensor(shape: [2, 2], values: [1, 2, 3])
        } catch {
            #expect(error.description.contains("[2, 2]") && error.description.contains("3 values"))
        }
        #expect(throws: TensorError.self) { try t.reshapedChecked([4, 2]) }
    }

    @Test func viewsShareStorageAndCopyOnWrite() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let transposed = t.transposed()
        #expect(!transposed.isContiguous && transposed.scalars == [1, 4, 2, 5, 3, 6])
        #expect(t.sliced(axis: 1, 1..<3).scalars == [2, 3, 5, 6])
        #expect(t.permuted([1, 0]).reshaped([6]).scalars == [1, 4, 2, 5, 3, 6])
        // Transposed copies on odd sizes, across the 64-column panels of the copy; and a Winograd
        // layer's Q [K, C, 6, 6] to [6, 6, K, C].
        for (shape, axes) in [([3, 37, 70], [0, 2, 1]), ([5, 7, 6, 6], [2, 3, 0, 1]), ([130, 1, 2], [2, 1, 0])] {
            let x = testTensor(shape, seed: 9), y = x.permuted(axes).contiguous()
            let xs = x.scalars, strides = x.strides
            var expected: [Float] = []
            let out = axes.map { shape[$0] }
            for flat in 0..<xs.count {
                var rest = flat, source = 0
                for axis in stride(from: out.count - 1, through: 0, by: -1) {
                    source += (rest % out[axis]) * strides[axes[axis]]
                    rest /= out[axis]
                }
                expected.append(xs[source])
            }
            #expect(y.scalars == expected, "\(shape) permuted \(axes)")
        }
        #expect(Tensor([1, 2]).reshaped([2, 1]).expanded(to: [2, 3]).scalars == [1, 1, 1, 2, 2, 2])
        var copy = t
        copy.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(t.scalars[0] == 1 && copy.scalars[0] == 100)
        var view = transposed
        view.withUnsafeMutableBufferPointer { $0[1] = -1 }
        #expect(view.scalars == [1, -1, 2, 5, 3, 6] && t.scalars == [1, 2, 3, 4, 5, 6])
    }

    /// Transposed views are copied in tiles; every element lands where the index arithmetic says, for
    /// matrices with partial tiles, batches of them, and sliced (offset, strided) sources.
    @Test func transposedCopiesMatchTheIndexDefinition() throws {
        for (batch, rows, columns) in [(1, 1, 1), (1, 17, 33), (3, 40, 5), (2, 16, 16)] {
            let values = (0..<(batch * rows * columns)).map(Float.init)
            let t = try Tensor(shape: [batch, rows, columns], values: values)
            let copied = t.transposed(1, 2).contiguous().scalars
            for b in 0..<batch {
                for j in 0..<columns {
                    for i in 0..<rows { #expect(copied[(b * columns + j) * rows + i] == values[(b * rows + i) * columns + j]) }
                }
            }
        }
        let wide = try Tensor(shape: [6, 20], values: (0..<120).map(Float.init)).sliced(axis: 1, 3..<19)
        let expected = (0..<16).flatMap { j in (0..<6).map { i in Float(i * 20 + 3 + j) } }
        #expect(wide.transposed().contiguous().scalars == expected)
    }

    @Test func broadcastingFollowsNumPyRules() throws {
        let a = try Tensor(shape: [2, 1, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [2, 1], values: [10, 20])
        let sum = a + b
        #expect(sum.shape == [2, 2, 3])
        #expect(sum.scalars == [11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26])
        let strided = a.transposed(0, 2) * 2
        #expect(strided.shape == [3, 1, 2] && strided.scalars == [2, 8, 4, 10, 6, 12])
    }

    @Test func reductionsAndSoftmaxValues() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 5, 3, 4, 2, 6])
        #expect(t.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(t.sum(alongAxis: 1).scalars == [9, 12])
        #expect(t.max(alongAxis: 1).scalars == [5, 6])
        #expect(t.argmax(alongAxis: 1) == [1, 2])
        #expect(t.mean().item == 3.5)
        let p = t.softmax().scalars
        #expect(allClose(Array(p[0..<3]), [0.015876, 0.866813, 0.117310], relativeTolerance: 1e-4))
    }

    @Test func joinsAndIndexing() throws {
        let a = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        #expect(concatenate([a, a * 10], alongAxis: 0).scalars == [1, 2, 3, 4, 10, 20, 30, 40])
        #expect(stack([a, a], alongAxis: 2).shape == [2, 2, 2])
        #expect(try a.indexSelect([1, 1, 0]).scalars == [3, 4, 3, 4, 1, 2])
        #expect(try a.gather(alongAxis: 1, indices: [1, 0], indexShape: [2, 1]).scalars == [2, 3])
        #expect(throws: TensorError.self) { try a.indexSelect([2]) }
        #expect(throws: TensorError.self) { try a.embedding([0, -1]) }
        #expect(a.isGreater(Tensor([2, 2])).scalars == [0, 0, 1, 1])
        #expect(select(where: a.isGreater(Tensor([2.5])), a, -a).scalars == [-1, -2, 3, 4])
    }

    @Test func autogradAccumulatesAndNoGradRecordsNothing() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * x).sum().backward()
        (x * 2).sum().backward()
        #expect(x.grad?.scalars == [4, 6, 8])
        x.zeroGrad()
        #expect(x.grad == nil)
        let y = withoutGradient { (x * x).sum() }
        #expect(!y.requiresGrad)
        let shared = x * 3
        (shared + shared).sum().backward()
        #expect(x.grad?.scalars == [6, 6, 6])
    }

    @Test func deepGraphsDoNotOverflowTheStack() {
        let x = Tensor([1]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y + 0 }
        y.sum().backward()
        #expect(x.grad?.scalars == [1])
    }

    @Test func sparseEmbeddingGradientKeepsOnlyTouchedRows() throws {
        let table = testTensor([1000, 4], seed: 40).requiringGrad()
        let out = try table.embeddingBag([7, 3, 7], offsets: [0, 1], mode: .sum, sparseGradient: true)
        out.backward(seed: Tensor.ones(out.shape))
        #expect(table.grad == nil)
        let sparse = try #require(table.sparseGrad)
        let (rows, values) = sparse.coalesced()
        #expect(rows == [3, 7] && values == [1, 1, 1, 1, 2, 2, 2, 2])
    }

    @Test func halfPrecisionRoundTrips() throws {
        let t = Tensor([1, -2.5, 0.1, 65504, 1e-8, 3.14159])
        let half = try Tensor(shape: [6], float16Bits: t.float16Bits())
        #expect(half.scalars[0...3] == [1, -2.5, Float(Float16(0.1)), 65504])
        #expect(t.float16Bits()[0] == 0x3C00)
        let bf = try Tensor(shape: [6], bfloat16Bits: t.bfloat16Bits())
        #expect(bf.scalars[0] == 1 && bf.scalars[1] == -2.5)
        #expect(Swift.abs(bf.scalars[5] - 3.14159) < 0.01)
        #expect(t.bfloat16Bits()[5] == 0x4049)  // 3.14159 rounds to 3.140625
    }

    @Test func randomGeneratorIsSeededAndPlausible() {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var rng = RandomGenerator(seed: 8)
        let normal = Tensor.normal([20_000], mean: 1, standardDeviation: 2, using: &rng)
        let mean = normal.mean().item, std = (normal - mean).squared().mean().item.squareRoot()
        #expect(Swift.abs(mean - 1) < 0.05 && Swift.abs(std - 2) < 0.05)
        let uniform = Tensor.uniform([20_000], in: -1..<3, using: &rng).scalars
        #expect(uniform.allSatisfy { $0 >= -1 && $0 < 3 } && Swift.abs(uniform.reduce(0, +) / 20_000 - 1) < 0.05)
        let coin = Tensor.bernoulli([20_000], probability: 0.3, using: &rng).mean().item
        #expect(Swift.abs(coin - 0.3) < 0.02)
    }

    @Test func shapeErrorsNameBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("[2, 3]") && message.contains("[4, 5]"))
        }
    }
}
