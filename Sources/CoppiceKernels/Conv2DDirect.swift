import CCPUDispatch

/// Direct stride-1 convolution on zero-padded "flat" planes, in Swift SIMD, with its two backward passes.
///
/// Legend (see `Conv2DGeometry`): each input channel is copied into a zero-padded plane of Hp × Wp
/// (Hp = H + 2·ph, Wp = W + 2·pw) stored flat. Output (p, q) then sits at flat index f = p·Wp + q and
/// tap (r, s) reads input flat index f + r·Wp + s: every tap is the same flat array shifted by a
/// constant, so a run of consecutive flat outputs is a run of consecutive loads. Positions with q ≥ Q
/// are computed and dropped (Wp − Q of every Wp, 6% for 32×32 with 3×3).
///
/// - forward: 4 output channels × 64 flat outputs (16 vector accumulators) per step, with fused
///   multiply-adds over C·R·S; weights repacked so that the 4 per tap are adjacent.
/// - backwardData: the forward kernel on the output gradient with flipped, transposed weights
///   (a stride-1 convolution's adjoint is a convolution with padding R − 1 − ph).
/// - backwardWeights: for each tap, gw[:, :, r, s] = gyFlat · (xFlat shifted by r·Wp + s)ᵀ, one GEMM
///   per tap with the images of a chunk side by side along the inner dimension.
/// Work is spread over images (or, for fewer images than threads, over output-channel blocks).
public enum Conv2DDirect {
    static let channelBlock = 4
    static let tile = 4 * FloatVector.scalarCount
    /// Images per weight-gradient GEMM: one image's planes stay in L2, which measured faster here
    /// than batching 2–16 images into longer products (34 ms vs 36–63 ms for 3×3 64→64 32×32 N=64).
    static let weightChunk = 1

    public static func supports(_ g: Conv2DGeometry) -> Bool {
        g.isValid && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1 && g.padH < g.kernelHeight && g.padW < g.kernelWidth
    }

    /// Padded-plane geometry shared by the passes.
    struct Layout {
        let paddedWidth: Int, paddedHeight: Int, flatCount: Int, tiles: Int, pitch: Int, taps: [Int]

        init(_ g: Conv2DGeometry) {
            paddedWidth = g.width + 2 * g.padW
            paddedHeight = g.height + 2 * g.padH
            flatCount = g.outHeight * paddedWidth
            tiles = (flatCount + Conv2DDirect.tile - 1) / Conv2DDirect.tile
            let reach = (g.kernelHeight - 1) * paddedWidth + g.kernelWidth - 1
            pitch = max(paddedHeight * paddedWidth, tiles * Conv2DDirect.tile + reach)
            var taps: [Int] = []
            for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth { taps.append(r * paddedWidth + s) } }
            self.taps = taps
        }
    }

    public static func forward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        checkArgument(supports(g), "Conv2DDirect needs stride 1, dilation 1 and padding below the kernel size, got \(g)")
        let layout = Layout(g)
        let taps = g.kernelHeight * g.kernelWidth
        let blocks = (g.outChannels + channelBlock - 1) / channelBlock
        // packed[block][c][tap][4]
        let packed = ScratchBuffer(count: blocks * g.inChannels * taps * channelBlock)
        for block in 0..<blocks {
            for c in 0..<g.inChannels {
                for t in 0..<taps {
                    for j in 0..<channelBlock {
                        let k = block * channelBlock + j
                        packed.pointer[((block * g.inChannels + c) * taps + t) * channelBlock + j] =
                            k < g.outChannels ? w[(k * g.inChannels + c) * taps + t] : 0
                    }
                }
            }
        }
        let inputSize = g.inChannels * layout.pitch
        let outputSize = channelBlock * layout.tiles * tile
        let byImage = g.batch >= pool.threadCount
        let workers = byImage ? pool.threadCount : 1
        let scratch = ScratchBuffer(count: workers * inputSize + pool.threadCount * outputSize)
        let kernel = Kernel(g: g, layout: layout, packed: packed.pointer, bias: bias, y: y)
        if byImage {
            pool.parallelFor(workers) { worker in
                let padded = scratch.pointer + worker * inputSize
                let out = scratch.pointer + workers * inputSize + worker * outputSize
                for n in ThreadPool.range(of: worker, in: workers, count: g.batch) {
                    pad(x + n * g.inChannels * g.inPlane, g, layout, padded)
                    for block in 0..<blocks { kernel.run(image: n, block: block, padded: padded, out: out) }
                }
            }
        } else {
            for n in 0..<g.batch {
                let padded = scratch.pointer
                pad(x + n * g.inChannels * g.inPlane, g, layout, padded)
                pool.parallelFor(pool.threadCount) { worker in
                    let out = scratch.pointer + inputSize + worker * outputSize
                    for block in ThreadPool.range(of: worker, in: pool.threadCount, count: blocks) {
                        kernel.run(image: n, block: block, padded: padded, out: out)
                    }
                }
            }
        }
        withExtendedLifetime((packed, scratch)) {}
    }

    /// gx = ∂(Σ y·gy)/∂x: the forward kernel over gy with w flipped in space and transposed in channels.
    public static func backwardData(
        _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        checkArgument(supports(g), "Conv2DDirect needs stride 1, dilation 1 and padding below the kernel size, got \(g)")
        let (r, s) = (g.kernelHeight, g.kernelWidth)
        let flipped = ScratchBuffer(count: g.outChannels * g.patchSize)
        for k in 0..<g.outChannels {
            for c in 0..<g.inChannels {
                for i in 0..<r {
                    for j in 0..<s {
                        flipped.pointer[((c * g.outChannels + k) * r + (r - 1 - i)) * s + (s - 1 - j)] =
                            w[((k * g.inChannels + c) * r + i) * s + j]
                    }
                }
            }
        }
        let adjoint = Conv2DGeometry(
            batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels,
            height: g.outHeight, width: g.outWidth, kernelHeight: r, kernelWidth: s,
            padding: (r - 1 - g.padH, s - 1 - g.padW))
        forward(gy, flipped.pointer, bias: nil, gx, adjoint, pool: pool)
        withExtendedLifetime(flipped) {}
    }

    /// gw = ∂(Σ y·gy)/∂w and gb = Σ gy per output channel, by one GEMM per tap over flat planes.
    public static func backwardWeights(
        _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
        _ gw: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?,
        _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        checkArgument(supports(g), "Conv2DDirect needs stride 1, dilation 1 and padding below the kernel size, got \(g)")
        let layout = Layout(g)
        let plane = layout.paddedHeight * layout.paddedWidth
        let taps = layout.taps.count
        let (c, k) = (g.inChannels, g.outChannels)
        let workers = min(pool.threadCount, g.batch)
        let chunk = max(1, min(weightChunk, (g.batch + workers - 1) / workers))
        let span = chunk * plane
        let slack = layout.taps.last! + FloatVector.scalarCount
        let perWorker = c * span + slack + k * span + taps * k * c
        let scratch = ScratchBuffer(count: workers * perWorker)
        pool.parallelFor(workers) { worker in
            let xs = scratch.pointer + worker * perWorker
            let ys = xs + c * span + slack
            let partial = ys + k * span
            partial.update(repeating: 0, count: taps * k * c)
            let images = ThreadPool.range(of: worker, in: workers, count: g.batch)
            var start = images.lowerBound
            var zeroedFor = 0
            while start < images.upperBound {
                let count = min(chunk, images.upperBound - start)
                let length = count * plane
                if count != zeroedFor {
                    // Padding and dropped columns must read as zero in this chunk's layout.
                    xs.update(repeating: 0, count: c * span + slack)
                    ys.update(repeating: 0, count: k * span)
                    zeroedFor = count
                }
                for i in 0..<count {
                    let n = start + i
                    for channel in 0..<c {
                        let dst = xs + channel * length + i * plane
                        for h in 0..<g.height {
                            (dst + (h + g.padH) * layout.paddedWidth + g.padW)
                                .update(from: x + ((n * c + channel) * g.height + h) * g.width, count: g.width)
                        }
                    }
                    for channel in 0..<k {
                        let dst = ys + channel * length + i * plane
                        for p in 0..<g.outHeight {
                            (dst + p * layout.paddedWidth)
                                .update(from: gy + ((n * k + channel) * g.outHeight + p) * g.outWidth, count: g.outWidth)
                        }
                    }
                }
                for (t, offset) in layout.taps.enumerated() {
                    Gemm.blas(
                        .none, .transposed, m: k, n: c, k: length, ys, lda: length, xs + offset, ldb: length,
                        beta: 1, partial + t * k * c, ldc: c)
                }
                start += count
            }
        }
        for kk in 0..<k {
            for cc in 0..<c {
                for t in 0..<taps {
                    var sum: Float = 0
                    for worker in 0..<workers { sum += scratch.pointer[worker * perWorker + c * span + slack + k * span + (t * k + kk) * c + cc] }
                    gw[(kk * c + cc) * taps + t] = sum
                }
            }
        }
        if let gradBias {
            for kk in 0..<k {
                var sum: Float = 0
                for n in 0..<g.batch { sum += Reduce.reduceRow(.sum, gy + (n * k + kk) * g.outPlane, g.outPlane) }
                gradBias[kk] = sum
            }
        }
        withExtendedLifetime(scratch) {}
    }

    /// Copies one image's channels into zeroed padded planes of `layout.pitch` floats.
    static func pad(_ image: UnsafePointer<Float>, _ g: Conv2DGeometry, _ layout: Layout, _ padded: UnsafeMutablePointer<Float>) {
        padded.update(repeating: 0, count: g.inChannels * layout.pitch)
        for c in 0..<g.inChannels {
            for h in 0..<g.height {
                (padded + c * layout.pitch + (h + g.padH) * layout.paddedWidth + g.padW)
                    .update(from: image + (c * g.height + h) * g.width, count: g.width)
            }
        }
    }

    /// The inner kernel, with everything it reads bound once.
    struct Kernel: @unchecked Sendable {
        // Invariant for @unchecked Sendable: read-only pointers and disjoint output blocks per task.
        let g: Conv2DGeometry
        let layout: Layout
        let packed: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?
        let y: UnsafeMutablePointer<Float>

        /// Output channels block·4 ..< block·4 + 4 of image n.
        func run(image n: Int, block: Int, padded: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
            let taps = layout.taps.count
            let rowLength = layout.tiles * Conv2DDirect.tile
            if CPU.isa >= .avx2 {
                // The C variant the CPU chose at run time; the Swift loop below follows the build's flags.
                layout.taps.withUnsafeBufferPointer { offsets in
                    coppice_direct_conv_tiles(
                        Int32(CPU.isa.rawValue), padded, packed + block * g.inChannels * taps * Conv2DDirect.channelBlock, offsets.baseAddress,
                        Int32(taps), Int32(g.inChannels), layout.pitch, Int32(layout.tiles), rowLength, out)
                }
            } else {
                swiftTiles(block: block, padded: padded, out: out)
            }
            for j in 0..<min(Conv2DDirect.channelBlock, g.outChannels - block * Conv2DDirect.channelBlock) {
                let k = block * Conv2DDirect.channelBlock + j
                let add = bias?[k] ?? 0
                for p in 0..<g.outHeight {
                    let src = out + j * rowLength + p * layout.paddedWidth
                    let dst = y + ((n * g.outChannels + k) * g.outHeight + p) * g.outWidth
                    for q in 0..<g.outWidth { dst[q] = src[q] + add }
                }
            }
        }

        /// The Swift SIMD twin of `coppice_direct_conv_tiles` (fast only when the build targets FMA).
        func swiftTiles(block: Int, padded: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
            let taps = layout.taps.count
            let rowLength = layout.tiles * Conv2DDirect.tile
            let w = FloatVector.scalarCount
            layout.taps.withUnsafeBufferPointer { offsets in
                for tile in 0..<layout.tiles {
                    var a00 = FloatVector(), a01 = FloatVector(), a02 = FloatVector(), a03 = FloatVector()
                    var a10 = FloatVector(), a11 = FloatVector(), a12 = FloatVector(), a13 = FloatVector()
                    var a20 = FloatVector(), a21 = FloatVector(), a22 = FloatVector(), a23 = FloatVector()
                    var a30 = FloatVector(), a31 = FloatVector(), a32 = FloatVector(), a33 = FloatVector()
                    for c in 0..<g.inChannels {
                        let src = padded + c * layout.pitch + tile * Conv2DDirect.tile
                        let wc = packed + ((block * g.inChannels + c) * taps) * Conv2DDirect.channelBlock
                        for t in 0..<taps {
                            let s = src + offsets[t]
                            let v0 = load(s), v1 = load(s + w), v2 = load(s + 2 * w), v3 = load(s + 3 * w)
                            let wt = wc + t &* 4
                            let w0 = FloatVector(repeating: wt[0]), w1 = FloatVector(repeating: wt[1])
                            let w2 = FloatVector(repeating: wt[2]), w3 = FloatVector(repeating: wt[3])
                            a00 = multiplyAdd(a00, v0, w0); a01 = multiplyAdd(a01, v1, w0)
                            a02 = multiplyAdd(a02, v2, w0); a03 = multiplyAdd(a03, v3, w0)
                            a10 = multiplyAdd(a10, v0, w1); a11 = multiplyAdd(a11, v1, w1)
                            a12 = multiplyAdd(a12, v2, w1); a13 = multiplyAdd(a13, v3, w1)
                            a20 = multiplyAdd(a20, v0, w2); a21 = multiplyAdd(a21, v1, w2)
                            a22 = multiplyAdd(a22, v2, w2); a23 = multiplyAdd(a23, v3, w2)
                            a30 = multiplyAdd(a30, v0, w3); a31 = multiplyAdd(a31, v1, w3)
                            a32 = multiplyAdd(a32, v2, w3); a33 = multiplyAdd(a33, v3, w3)
                        }
                    }
                    let o = out + tile * Conv2DDirect.tile
                    store(a00, o); store(a01, o + w); store(a02, o + 2 * w); store(a03, o + 3 * w)
                    store(a10, o + rowLength); store(a11, o + rowLength + w); store(a12, o + rowLength + 2 * w); store(a13, o + rowLength + 3 * w)
                    let o2 = o + 2 * rowLength, o3 = o + 3 * rowLength
                    store(a20, o2); store(a21, o2 + w); store(a22, o2 + 2 * w); store(a23, o2 + 3 * w)
                    store(a30, o3); store(a31, o3 + w); store(a32, o3 + 2 * w); store(a33, o3 + 3 * w)
                }
            }
        }
    }
}
