// F16 weights times many activation rows (a long prompt) with AVX-512: a panel of 64 weight rows is
// widened once into F32 as [column][64 rows], so one 64-byte load holds 16 rows of a column; each
// activation row's value is broadcast against four such loads, and six tokens × 64 rows of sums stay
// in 24 registers (the layout of BF16Product.c with FMA for VDPBF16PS). The panels' path before it
// widened whole F16 row blocks for OpenBLAS's sgemm, which packs them again and packs x again per
// panel: on an AMD EPYC Zen 4 a 1B model's F16 prefill of 512 tokens spent about 11% of its time in that
// packing and widening and ran at 0.96 of llama.cpp's speed (benchmarks/llamacpp_bench.py).
#include "CCPUDispatch.h"
#include "Level.h"
#include <stdlib.h>
#include <string.h>

static float widen(uint16_t bits) {
    _Float16 half;
    memcpy(&half, &bits, 2);
    return (float)half;
}

/// Weight (r, c) of a row-major or interleaved (`coppice_float_interleave`: groups of 8 rows by 8
/// columns) F16 matrix.
static uint16_t weightAt(const uint16_t *w, int interleaved, long columns, long r, long c) {
    if (!interleaved) return w[r * columns + c];
    return w[(r / 8) * 8 * columns + (c / 8) * 64 + (r % 8) * 8 + c % 8];
}

static void multiplyGeneric(const uint16_t *w, int interleaved, long columns, long first, long count, const float *x, long tokens,
                            float *y, long ldy) {
    for (long t = 0; t < tokens; t++) {
        for (long r = first; r < first + count; r++) {
            float sum = 0;
            for (long c = 0; c < columns; c++) sum += widen(weightAt(w, interleaved, columns, r, c)) * x[t * columns + c];
            y[t * ldy + r] = sum;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c")))

enum { panelRows = 64, columnBlock = 256 };

/// Rows [first, first + rows) (rows ≤ 64, the rest of the panel zero; first a multiple of 8 where
/// interleaved) widened as [column][64 rows]: one gather takes a pair of columns from 16 rows (storing
/// a row's 16 values down the panel one by one took 8% of a 512-token 1B prefill on the AMD EPYC Zen 4).
AVX512 static void packPanel(const uint16_t *w, int interleaved, long columns, long first, long rows, float *panel) {
    const uint16_t *base = w + first * columns;
    for (long i0 = 0; i0 < panelRows; i0 += 16) {
        long n = rows - i0;
        __mmask16 valid = n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
        int32_t offsets[16];  // each row's first value, in halves from `base`
        for (int k = 0; k < 16; k++) {
            long i = i0 + k;
            offsets[k] = (int32_t)(interleaved ? i / 8 * 8 * columns + i % 8 * 8 : i * columns);
        }
        __m512i index = _mm512_loadu_si512(offsets);
        for (long c = 0; c + 2 <= columns; c += 2) {
            const uint16_t *at = base + (interleaved ? c / 8 * 64 + c % 8 : c);
            __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, index, at, 2);
            _mm512_storeu_ps(panel + c * panelRows + i0, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(words)));
            _mm512_storeu_ps(panel + (c + 1) * panelRows + i0, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(words, 16))));
        }
        if (columns % 2)  // an odd last column (row-major only: interleaved rows have a multiple of 8)
            for (int k = 0; k < 16; k++) panel[(columns - 1) * panelRows + i0 + k] = k < n ? widen(w[(first + i0 + k) * columns + columns - 1]) : 0;
    }
}

/// T tokens × 64 rows over columns [c0, c1): y (row vectors masked by m) set on the first block, added to after.
#define TILE(T)                                                                                                     \
    AVX512 static void tile##T(const float *panel, const float *x, long ldx, long c0, long c1, float *y, long ldy,   \
                               const __mmask16 *m, int accumulate) {                                                \
        __m512 a[T][4];                                                                                             \
        _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++)                                              \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++)                                          \
                a[t][v] = accumulate ? _mm512_maskz_loadu_ps(m[v], y + t * ldy + 16 * v) : _mm512_setzero_ps();    \
        for (long c = c0; c < c1; c++) {                                                                            \
            const float *w = panel + c * panelRows;                                                                 \
            __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32);            \
            __m512 w3 = _mm512_loadu_ps(w + 48);                                                                    \
            _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++) {                                        \
                __m512 xt = _mm512_set1_ps(x[t * ldx + c]);                                                         \
                a[t][0] = _mm512_fmadd_ps(w0, xt, a[t][0]);                                                         \
                a[t][1] = _mm512_fmadd_ps(w1, xt, a[t][1]);                                                         \
                a[t][2] = _mm512_fmadd_ps(w2, xt, a[t][2]);                                                         \
                a[t][3] = _mm512_fmadd_ps(w3, xt, a[t][3]);                                                         \
            }                                                                                                       \
        }                                                                                                           \
        _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++)                                              \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++)                                          \
                _mm512_mask_storeu_ps(y + t * ldy + 16 * v, m[v], a[t][v]);                                         \
    }

TILE(6)
TILE(2)
TILE(1)

static void multiplyF16(const uint16_t *w, int interleaved, long columns, long first, long count, const float *x, long tokens, float *y,
                        long ldy) {
    float *panel = aligned_alloc(64, ((size_t)columns * panelRows * 4 + 63) / 64 * 64);
    if (!panel) return multiplyGeneric(w, interleaved, columns, first, count, x, tokens, y, ldy);
    for (long r0 = first; r0 < first + count; r0 += panelRows) {
        long rows = first + count - r0 < panelRows ? first + count - r0 : panelRows;
        packPanel(w, interleaved, columns, r0, rows, panel);
        __mmask16 m[4];
        for (int v = 0; v < 4; v++) {
            long n = rows - 16 * v;
            m[v] = n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
        }
        for (long c0 = 0; c0 < columns; c0 += columnBlock) {
            long c1 = columns - c0 < columnBlock ? columns : c0 + columnBlock;
            long t = 0;
            for (; t + 6 <= tokens; t += 6) tile6(panel, x + t * columns, columns, c0, c1, y + t * ldy + r0, ldy, m, c0 > 0);
            for (; t + 2 <= tokens; t += 2) tile2(panel, x + t * columns, columns, c0, c1, y + t * ldy + r0, ldy, m, c0 > 0);
            for (; t < tokens; t++) tile1(panel, x + t * columns, columns, c0, c1, y + t * ldy + r0, ldy, m, c0 > 0);
        }
    }
    free(panel);
}

int coppice_f16_product_available(void) { return coppice_isa() >= COPPICE_ISA_AVX512; }

void coppice_f16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const float *x,
                          long tokens, float *y, long ldy) {
    if (coppice_level_supported(level) >= COPPICE_ISA_AVX512) return multiplyF16(weights, interleaved, columns, first, count, x, tokens, y, ldy);
    multiplyGeneric(weights, interleaved, columns, first, count, x, tokens, y, ldy);
}

#else

int coppice_f16_product_available(void) { return 0; }

void coppice_f16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const float *x,
                          long tokens, float *y, long ldy) {
    (void)level;
    multiplyGeneric(weights, interleaved, columns, first, count, x, tokens, y, ldy);
}

#endif
