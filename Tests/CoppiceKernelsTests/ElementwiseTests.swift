import Foundation
import CoppiceKernels
import CoppiceTestSupport
import Testing

@Suite struct ElementwiseTests {
    static let counts = [1, 3, 7, 33, 130, 70_001]

    @Test(arguments: Elementwise.Unary.allCases)
    func unaryMatchesReference(op: Elementwise.Unary) {
        for n in Self.counts {
            var x = testValues(n, seed: 11).map { $0 * 6 }
            if op == .log || op == .sqrt { x = x.map { Swift.abs($0) + 0.01 } }
            var fast = [Float](repeating: 0, count: n), slow = fast
            Elementwise.unary(op, x, &fast, count: n)
            Elementwise.unaryReference(op, x, &slow, count: n)
            #expect(
                allClose(fast, slow, relativeTolerance: 1e-5, absoluteTolerance: 1e-6),
                "\(op) n=\(n): worst ratio \(worstClosenessRatio(fast, slow, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))")
        }
    }

    @Test func expHandlesExtremes() {
        let x: [Float] = [-1000, -87, 0, 1, 88, 89, 1000, .nan, -.infinity, .infinity] + [Float](repeating: 0, count: 6)
        var y = [Float](repeating: 0, count: x.count)
        Elementwise.unary(.exp, x, &y, count: x.count)
        #expect(y[0] == 0 && y[2] == 1 && y[5] == .infinity && y[6] == .infinity && y[7].isNaN && y[8] == 0 && y[9] == .infinity)
        #expect(Swift.abs(y[1] / 1.64581e-38 - 1) < 1e-4)
        #expect(Swift.abs(y[4] / 1.6516363e38 - 1) < 1e-5)
    }

    @Test(arguments: Elementwise.Binary.allCases)
    func binaryMatchesReferenceWithBroadcastStrides(op: Elementwise.Binary) {
        for n in Self.counts {
            let x = testValues(n, seed: 12), y = testValues(n, seed: 13).map { op == .divide ? $0 + 3 : $0 }
            for (xs, ys) in [(1, 1), (1, 0), (0, 1)] {
                var fast = [Float](repeating: 0, count: n), slow = fast
                Elementwise.binary(op, x, xStride: xs, y, yStride: ys, &fast, count: n)
                Elementwise.binaryReference(op, x, xStride: xs, y, yStride: ys, &slow, count: n)
                #expect(allClose(fast, slow, relativeTolerance: 1e-6, absoluteTolerance: 1e-7), "\(op) n=\(n) strides \(xs),\(ys)")
            }
        }
    }

    @Test func axpyAffineCopyAndReluBackward() {
        for n in Self.counts {
            let x = testValues(n, seed: 14), g = testValues(n, seed: 15)
            var y = g
            Elementwise.axpy(0.5, x, &y, count: n)
            #expect(allClose(y, zip(x, g).map { 0.5 * $0 + $1 }))
            var z = [Float](repeating: 0, count: n)
            Elementwise.affine(x, alpha: 2, beta: -1, &z, count: n)
            #expect(allClose(z, x.map { 2 * $0 - 1 }))
            Elementwise.copy(x, &z, count: n)
            #expect(z == x)
            Elementwise.reluBackward(x, g, &z, count: n)
            #expect(z == zip(x, g).map { $0 > 0 ? $1 : 0 })
        }
    }
}

@Suite struct ReduceAndSoftmaxTests {
    @Test func reduceMatchesReference() {
        for (outer, length, inner) in [(1, 1, 1), (3, 7, 1), (1, 130, 33), (7, 33, 3), (2, 70_001, 1), (5, 3, 5000), (33, 2000, 1)] {
            let x = testValues(outer * length * inner, seed: 16)
            for op in [Reduce.Operation.sum, .max, .min] {
                var fast = [Float](repeating: 0, count: outer * inner), slow = fast
                Reduce.reduce(op, x, outer: outer, length: length, inner: inner, &fast)
                Reduce.reference(op, x, outer: outer, length: length, inner: inner, &slow)
                #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-3), "\(op) \(outer)×\(length)×\(inner)")
            }
        }
    }

    @Test func softmaxMatchesReference() {
        for (rows, columns) in [(1, 1), (3, 7), (33, 130), (130, 33), (2, 5000)] {
            let x = testValues(rows * columns, seed: 17).map { $0 * 20 }
            for logarithm in [false, true] {
                var fast = [Float](repeating: 0, count: rows * columns), slow = fast
                Softmax.forward(x, &fast, rows: rows, columns: columns, logarithm: logarithm)
                Softmax.reference(x, &slow, rows: rows, columns: columns, logarithm: logarithm)
                #expect(allClose(fast, slow, relativeTolerance: 1e-5, absoluteTolerance: 1e-6), "\(rows)×\(columns) log=\(logarithm)")
            }
        }
    }
}

@Suite struct ThreadPoolTests {
    @Test func everyTaskRunsExactlyOnce() {
        let pool = ThreadPool(threadCount: 3)
        for tasks in [0, 1, 2, 7, 1000] {
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(tasks, 1))
            counts.initialize(repeating: 0, count: max(tasks, 1))
            defer { counts.deallocate() }
            pool.parallelFor(tasks) { counts[$0] += 1 }
            #expect((0..<tasks).allSatisfy { counts[$0] == 1 })
        }
    }

    @Test func workersThatSleptWakeForTheNextJob() {
        let pool = ThreadPool(threadCount: 3)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 30)
        hits.initialize(repeating: 0, count: 30)
        defer { hits.deallocate() }
        for round in 0..<3 {
            usleep(20_000)  // longer than the workers spin: they are asleep when the job comes
            pool.parallelFor(10) { hits[round * 10 + $0] += 1 }
        }
        #expect((0..<30).allSatisfy { hits[$0] == 1 })
    }

    @Test func nestedCallsRunInline() {
        let pool = ThreadPool(threadCount: 2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 16)
        hits.initialize(repeating: 0, count: 16)
        defer { hits.deallocate() }
        pool.parallelFor(4) { outer in
            pool.parallelFor(4) { inner in hits[outer * 4 + inner] += 1 }
        }
        #expect((0..<16).allSatisfy { hits[$0] == 1 })
    }

    @Test func rangesPartitionTheWork() {
        for (count, pieces) in [(10, 3), (2, 5), (100, 7)] {
            let ranges = (0..<pieces).map { ThreadPool.range(of: $0, in: pieces, count: count) }
            #expect(ranges.map(\.count).reduce(0, +) == count)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
    }
}
