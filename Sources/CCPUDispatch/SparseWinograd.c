// Sparse Winograd convolution F(4×4,3×3) (CoppiceKernels/SparseWinogradKernel.swift), AVX2+FMA: the
// input transform of a block of 8·w tiles straight into vectors (one tile per lane), the sparse
// products of Q's nonzeros with it, and the output transform with bias and ReLU, so a layer passes
// over its input and output once and over the transformed tiles while they are in cache.
// Lanes are tiles; V of a block is [36][C][8w] and M of a pass of filters [filters][36][8w].
#include "CCPUDispatch.h"
#include "Level.h"
#include "Transpose.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE __attribute__((always_inline)) inline

// Bᵀ x for F(4×4,3×3) (rows of Yu et al.'s Bᵀ, WinogradTransform.f4x3).
#define BT6(x0, x1, x2, x3, x4, x5, y0, y1, y2, y3, y4, y5)                                               \
    do {                                                                                                   \
        __m256 four = _mm256_set1_ps(4), five = _mm256_set1_ps(5), two = _mm256_set1_ps(2);               \
        y0 = _mm256_fmadd_ps(four, x0, _mm256_fnmadd_ps(five, x2, x4));                                  \
        y1 = _mm256_fnmadd_ps(four, _mm256_add_ps(x1, x2), _mm256_add_ps(x3, x4));                        \
        y2 = _mm256_fmadd_ps(four, _mm256_sub_ps(x1, x2), _mm256_sub_ps(x4, x3));                         \
        y3 = _mm256_fmadd_ps(two, _mm256_sub_ps(x3, x1), _mm256_sub_ps(x4, x2));                          \
        y4 = _mm256_fnmadd_ps(two, _mm256_sub_ps(x3, x1), _mm256_sub_ps(x4, x2));                         \
        y5 = _mm256_fmadd_ps(four, x1, _mm256_fnmadd_ps(five, x3, x5));                                   \
    } while (0)

// Aᵀ m for F(4×4,3×3).
#define AT6(m0, m1, m2, m3, m4, m5, y0, y1, y2, y3)                                                       \
    do {                                                                                                   \
        __m256 s12 = _mm256_add_ps(m1, m2), d12 = _mm256_sub_ps(m1, m2);                                  \
        __m256 s34 = _mm256_add_ps(m3, m4), d34 = _mm256_sub_ps(m3, m4);                                  \
        y0 = _mm256_add_ps(_mm256_add_ps(m0, s12), s34);                                                  \
        y1 = _mm256_fmadd_ps(_mm256_set1_ps(2), d34, d12);                                               \
        y2 = _mm256_fmadd_ps(_mm256_set1_ps(4), s34, s12);                                               \
        y3 = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8), d34, d12), m5);                            \
    } while (0)

// V = Bᵀ d B for 8 tiles (one per lane) of `channels` channels from channel `first`; tile l's 6×6
// window starts at tiles[l] + c·plane. Rows are read 8 floats wide (the buffer has 2 floats of slack).
AVX2 static void inputTransform8(const float *const tiles[8], long plane, long width, long first, long channels,
                                 float *v, long positionStride, long channelStride) {
    for (long c = first; c < first + channels; c++) {
        // Row by row: d B (Bᵀ along each row's 6 columns) into t, then Bᵀ (d B) down t's columns.
        __m256 t[6][6];
        for (int a = 0; a < 6; a++) {
            __m256 r[8];
            for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps(tiles[l] + c * plane + a * width);
            coppice_transpose8(r);
            BT6(r[0], r[1], r[2], r[3], r[4], r[5], t[a][0], t[a][1], t[a][2], t[a][3], t[a][4], t[a][5]);
        }
        float *out = v + c * channelStride;
        for (int j = 0; j < 6; j++) {
            __m256 y0, y1, y2, y3, y4, y5;
            BT6(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], y0, y1, y2, y3, y4, y5);
            _mm256_storeu_ps(out + (0 * 6 + j) * positionStride, y0);
            _mm256_storeu_ps(out + (1 * 6 + j) * positionStride, y1);
            _mm256_storeu_ps(out + (2 * 6 + j) * positionStride, y2);
            _mm256_storeu_ps(out + (3 * 6 + j) * positionStride, y3);
            _mm256_storeu_ps(out + (4 * 6 + j) * positionStride, y4);
            _mm256_storeu_ps(out + (5 * 6 + j) * positionStride, y5);
        }
    }
}

// m[0..<8w] = Σ values[i] · v[columns[i]·8w ..] over one (filter, position)'s nonzeros, with 4 (w ≤ 2)
// or 2 (w = 4) interleaved chains per vector so the multiply-adds are not bound by their latency; a
// row has 8-16 nonzeros at 76% sparsity, so more chains cost more to clear and sum than they hide.
AVX2 static INLINE void sparseRow(int w, const float *values, const int32_t *columns, long count, const float *v, float *m) {
    __m256 acc[8];
    const int chains = w == 4 ? 2 : 4;
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
    long i = 0;
    for (; i + chains <= count; i += chains) {
        for (int u = 0; u < chains; u++) {
            __m256 value = _mm256_broadcast_ss(values + i + u);
            const float *row = v + (long)columns[i + u] * 8 * w;
            for (int j = 0; j < w; j++) acc[u * w + j] = _mm256_fmadd_ps(value, _mm256_loadu_ps(row + 8 * j), acc[u * w + j]);
        }
    }
    for (; i < count; i++) {
        __m256 value = _mm256_broadcast_ss(values + i);
        const float *row = v + (long)columns[i] * 8 * w;
        for (int j = 0; j < w; j++) acc[j] = _mm256_fmadd_ps(value, _mm256_loadu_ps(row + 8 * j), acc[j]);
    }
    for (int u = 1; u < chains; u++)
        for (int j = 0; j < w; j++) acc[j] = _mm256_add_ps(acc[j], acc[u * w + j]);
    for (int j = 0; j < w; j++) _mm256_storeu_ps(m + 8 * j, acc[j]);
}

// Two rows at once (w = 4): the two filters' nonzeros at one position, each row's 4 vectors an
// independent chain, so 8 accumulators hide the multiply-add latency without chains to sum. The rows
// are taken longer first, so only the first has a tail.
AVX2 static INLINE void sparseRowPair(const float *values, const int32_t *columns, long countA, const float *valuesB,
                                      const int32_t *columnsB, long countB, const float *v, float *mA, float *mB) {
    if (countB > countA) {
        const float *tv = values;
        const int32_t *tc = columns;
        long tn = countA;
        float *tm = mA;
        values = valuesB, columns = columnsB, countA = countB, mA = mB;
        valuesB = tv, columnsB = tc, countB = tn, mB = tm;
    }
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long i = 0;
    for (; i < countB; i++) {
        __m256 x = _mm256_broadcast_ss(values + i), y = _mm256_broadcast_ss(valuesB + i);
        const float *r = v + (long)columns[i] * 32, *s = v + (long)columnsB[i] * 32;
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r), a0);
        b0 = _mm256_fmadd_ps(y, _mm256_loadu_ps(s), b0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 8), a1);
        b1 = _mm256_fmadd_ps(y, _mm256_loadu_ps(s + 8), b1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 16), a2);
        b2 = _mm256_fmadd_ps(y, _mm256_loadu_ps(s + 16), b2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 24), a3);
        b3 = _mm256_fmadd_ps(y, _mm256_loadu_ps(s + 24), b3);
    }
    for (; i < countA; i++) {
        __m256 x = _mm256_broadcast_ss(values + i);
        const float *r = v + (long)columns[i] * 32;
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r), a0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 8), a1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 16), a2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r + 24), a3);
    }
    _mm256_storeu_ps(mA, a0), _mm256_storeu_ps(mA + 8, a1), _mm256_storeu_ps(mA + 16, a2), _mm256_storeu_ps(mA + 24, a3);
    _mm256_storeu_ps(mB, b0), _mm256_storeu_ps(mB + 8, b1), _mm256_storeu_ps(mB + 16, b2), _mm256_storeu_ps(mB + 24, b3);
}

// Y = Aᵀ M A + bias (then ReLU) for 8 tiles, cropped at the map's edges; tile l's output starts at
// out[l] (NULL: a padding lane), with `rows[l]` × `cols[l]` of its 4×4 inside the map.
AVX2 static void outputTransform8(const float *m, long positionStride, float bias, int relu, float *const out[8], const int rows[8],
                                  const int cols[8], long width) {
    __m256 t[4][6];
    for (int b = 0; b < 6; b++) {
        __m256 x[6];
        for (int a = 0; a < 6; a++) x[a] = _mm256_loadu_ps(m + (a * 6 + b) * positionStride);
        AT6(x[0], x[1], x[2], x[3], x[4], x[5], t[0][b], t[1][b], t[2][b], t[3][b]);
    }
    __m256 shift = _mm256_set1_ps(bias), zero = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        __m256 y[4];
        AT6(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], y[0], y[1], y[2], y[3]);
        for (int j = 0; j < 4; j++) {
            y[j] = _mm256_add_ps(y[j], shift);
            if (relu) y[j] = _mm256_max_ps(y[j], zero);
        }
        // Lanes to rows of 4: s0 holds lanes 0 and 4, s1 lanes 1 and 5, s2 lanes 2 and 6, s3 lanes 3 and 7.
        __m256 a0 = _mm256_unpacklo_ps(y[0], y[1]), a1 = _mm256_unpackhi_ps(y[0], y[1]);
        __m256 a2 = _mm256_unpacklo_ps(y[2], y[3]), a3 = _mm256_unpackhi_ps(y[2], y[3]);
        __m256 s[4] = {_mm256_shuffle_ps(a0, a2, 0x44), _mm256_shuffle_ps(a0, a2, 0xEE), _mm256_shuffle_ps(a1, a3, 0x44),
                       _mm256_shuffle_ps(a1, a3, 0xEE)};
        for (int l = 0; l < 8; l++) {
            if (!out[l] || i >= rows[l]) continue;
            __m128 row = l < 4 ? _mm256_castps256_ps128(s[l]) : _mm256_extractf128_ps(s[l - 4], 1);
            float *dst = out[l] + i * width;
            if (cols[l] == 4) {
                _mm_storeu_ps(dst, row);
            } else {
                float values[4];
                _mm_storeu_ps(values, row);
                for (int j = 0; j < cols[l]; j++) dst[j] = values[j];
            }
        }
    }
}

// The lanes of block `block` (8·w tiles): where each tile's input window and output start.
typedef struct {
    const float *input[32];
    float *output[32];  // at filter 0; NULL for padding lanes
    int rows[32], cols[32];
    long image[32];
} Lanes;

static void lanesOf(const coppice_winograd_geometry *g, long block, int w, Lanes *lanes) {
    long perImage = g->tilesHigh * g->tilesWide;
    for (int l = 0; l < 8 * w; l++) {
        long t = block * 8 * w + l;
        int live = t < g->tiles;
        if (!live) t = g->tiles - 1;  // a copy of a real tile: finite, never stored
        long image = t / perImage, r = t % perImage, ti = r / g->tilesWide, tj = r % g->tilesWide;
        // The dense transforms pass a geometry without output (input transform) or without input (output
        // transform): no offset is applied to a null pointer (undefined behaviour, UBSan).
        lanes->input[l] =
            g->padded ? g->padded + image * g->channels * g->paddedHeight * g->paddedWidth + ti * 4 * g->paddedWidth + tj * 4 : 0;
        lanes->output[l] =
            live && g->output ? g->output + image * g->filters * g->outHeight * g->outWidth + ti * 4 * g->outWidth + tj * 4 : 0;
        long rows = g->outHeight - ti * 4, cols = g->outWidth - tj * 4;
        lanes->rows[l] = (int)(rows < 4 ? rows : 4);
        lanes->cols[l] = (int)(cols < 4 ? cols : 4);
        lanes->image[l] = image;
    }
}

// Floats from one position's V to the next: a block's C·8w, plus 16 so that the 36 stores of a tile
// transform do not land 4 KiB apart (one L1 set) when C·8w·4 is a multiple of 4 KiB.
static long positionFloats(long channels, int w) { return channels * 8 * w + 16; }

AVX2 static void inputAVX2(const coppice_winograd_geometry *g, long block, int w, long firstChannel, long channels, float *v) {
    Lanes lanes;
    lanesOf(g, block, w, &lanes);
    long plane = g->paddedHeight * g->paddedWidth, positionStride = positionFloats(g->channels, w);
    // Channel-major, so that the w vectors of a channel's 64-byte lines are written while the lines are
    // in L1 (one thread, 32→32 28×28 batch 32: 1.71 → 1.59 ms).
    for (long c = firstChannel; c < firstChannel + channels; c++)
        for (int j = 0; j < w; j++) inputTransform8(lanes.input + 8 * j, plane, g->paddedWidth, c, 1, v + 8 * j, positionStride, 8 * w);
}

// Filters per pass: M of one pass, [filters][36][8w] floats, stays within 256 KiB (L2), so V[p] is
// read from L1 by all of them (a pass of a few filters rereads all of V from L2 for each pass).
#define PASS_FLOATS 65536

AVX2 static INLINE void filtersAVX2(const coppice_winograd_geometry *g, const coppice_sparse_winograd_weights *q, long block, int w,
                                    long first, long count, const float *v, float *m) {
    Lanes lanes;
    lanesOf(g, block, w, &lanes);
    long pass = PASS_FLOATS / (36 * 8 * w), vPosition = positionFloats(g->channels, w), outPlane = g->outHeight * g->outWidth;
    for (long k0 = first; k0 < first + count; k0 += pass) {
        long filters = first + count - k0 < pass ? first + count - k0 : pass;
        for (int p = 0; p < 36; p++) {
            long f = 0;
            if (w == 4) {
                // Filters in pairs (one thread, vgg-fmnist 32→32 28×28 batch 32: 1.81 → 1.71 ms); an odd
                // last filter goes through sparseRow.
                for (; f + 1 < filters; f += 2) {
                    long slotA = (k0 + f) * 36 + p, slotB = slotA + 36;
                    long beginA = q->starts[slotA], countA = q->starts[slotA + 1] - beginA;
                    long beginB = q->starts[slotB], countB = q->starts[slotB + 1] - beginB;
                    sparseRowPair(q->values + beginA, q->columns + beginA, countA, q->values + beginB, q->columns + beginB, countB,
                                   v + p * vPosition, m + (f * 36 + p) * 32, m + ((f + 1) * 36 + p) * 32);
                }
            }
            for (; f < filters; f++) {
                long slot = (k0 + f) * 36 + p, begin = q->starts[slot], end = q->starts[slot + 1];
                sparseRow(w, q->values + begin, q->columns + begin, end - begin, v + p * vPosition, m + (f * 36 + p) * 8 * w);
            }
        }
        for (long f = 0; f < filters; f++) {
            long k = k0 + f;
            float bias = q->bias ? q->bias[k] : 0;
            for (int j = 0; j < w; j++) {
                float *out[8];
                for (int l = 0; l < 8; l++) {
                    float *base = lanes.output[8 * j + l];
                    out[l] = base ? base + k * outPlane : 0;
                }
                outputTransform8(m + f * 36 * 8 * w + 8 * j, 8 * w, bias, q->relu, out, lanes.rows + 8 * j, lanes.cols + 8 * j, g->outWidth);
            }
        }
    }
}

AVX2 static void filtersAVX2Width(const coppice_winograd_geometry *g, const coppice_sparse_winograd_weights *q, long block, int w,
                                  long first, long count, const float *v, float *m) {
    // Constant widths, so sparseRow's loops unroll into registers.
    switch (w) {
    case 1: filtersAVX2(g, q, block, 1, first, count, v, m); break;
    case 2: filtersAVX2(g, q, block, 2, first, count, v, m); break;
    default: filtersAVX2(g, q, block, 4, first, count, v, m); break;
    }
}
AVX2 static void denseInputAVX2(const coppice_winograd_geometry *g, long block, long first, long channels, float *v, long rowLength) {
    Lanes lanes;
    lanesOf(g, block, 2, &lanes);
    long plane = g->paddedHeight * g->paddedWidth;
    for (int j = 0; j < 2; j++)
        inputTransform8(lanes.input + 8 * j, plane, g->paddedWidth, first, channels, v + 8 * j, g->channels * rowLength, rowLength);
}

AVX2 static void denseOutputAVX2(const coppice_winograd_geometry *g, long block, long first, long filters, const float *m, long rowLength,
                                  const float *bias) {
    Lanes lanes;
    lanesOf(g, block, 2, &lanes);
    long outPlane = g->outHeight * g->outWidth;
    for (long k = first; k < first + filters; k++) {
        for (int j = 0; j < 2; j++) {
            float *out[8];
            for (int l = 0; l < 8; l++) {
                float *base = lanes.output[8 * j + l];
                out[l] = base ? base + k * outPlane : 0;
            }
            outputTransform8(m + k * rowLength + 8 * j, g->filters * rowLength, bias ? bias[k] : 0, 0, out, lanes.rows + 8 * j,
                             lanes.cols + 8 * j, g->outWidth);
        }
    }
}
#endif

void coppice_winograd_f4x3_input16(int level, const coppice_winograd_geometry *g, long block, long firstChannel, long channels, float *v,
                                   long rowLength) {
#if defined(__x86_64__)
    if (coppice_sparse_winograd_available(level)) denseInputAVX2(g, block, firstChannel, channels, v, rowLength);
#else
    (void)level, (void)g, (void)block, (void)firstChannel, (void)channels, (void)v, (void)rowLength;
#endif
}

void coppice_winograd_f4x3_output16(int level, const coppice_winograd_geometry *g, long block, long firstFilter, long filters, const float *m,
                                    long rowLength, const float *bias) {
#if defined(__x86_64__)
    if (coppice_sparse_winograd_available(level)) denseOutputAVX2(g, block, firstFilter, filters, m, rowLength, bias);
#else
    (void)level, (void)g, (void)block, (void)firstFilter, (void)filters, (void)m, (void)rowLength, (void)bias;
#endif
}

long coppice_sparse_winograd_block_floats(long channels, int w) { return 36 * positionFloats(channels, w); }

int coppice_sparse_winograd_available(int level) {
#if defined(__x86_64__)
    return coppice_level_supported(level) >= COPPICE_ISA_AVX2;
#else
    (void)level;
    return 0;
#endif
}

void coppice_sparse_winograd_input(int level, const coppice_winograd_geometry *g, long block, int w, long firstChannel, long channels,
                                   float *v) {
#if defined(__x86_64__)
    if (coppice_sparse_winograd_available(level)) inputAVX2(g, block, w, firstChannel, channels, v);
#else
    (void)level, (void)g, (void)block, (void)w, (void)firstChannel, (void)channels, (void)v;
#endif
}

long coppice_sparse_winograd_scratch(int w, long filters) {
    long pass = PASS_FLOATS / (36 * 8 * w);
    return 36 * 8 * w * (filters < pass ? filters : pass);
}

void coppice_sparse_winograd_filters(int level, const coppice_winograd_geometry *g, const coppice_sparse_winograd_weights *q, long block,
                                     int w, long firstFilter, long filters, const float *v, float *m) {
#if defined(__x86_64__)
    if (coppice_sparse_winograd_available(level)) filtersAVX2Width(g, q, block, w, firstFilter, filters, v, m);
#else
    (void)level, (void)g, (void)q, (void)block, (void)w, (void)firstFilter, (void)filters, (void)v, (void)m;
#endif
}
