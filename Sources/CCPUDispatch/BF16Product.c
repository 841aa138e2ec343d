// BF16 weights times many activation rows (prefill) with AVX512-BF16's VDPBF16PS: 32 multiply-adds of
// BF16 pairs into 16 F32 sums per instruction, twice the FMA's 16. The activations are rounded to BF16
// first, as llama.cpp multiplies BF16 weights. Widening the weights to F32 for a BLAS (the path
// elsewhere) keeps prefill at the F32 peak: on an AMD EPYC Zen 4 a 1B model's BF16 prefill ran at 0.66
// of llama.cpp's speed that way (benchmarks/llamacpp_bench.py, docs/results/amd-zen4.md).
//
// A panel of 64 weight rows is packed once per call as [pair][row] 32-bit words (the two BF16 values of
// columns 2p and 2p + 1), so one 64-byte load holds 16 rows' pair; each activation row's pair is
// broadcast against four such loads. Six tokens × 64 rows of sums stay in 24 registers over 256 pairs
// at a time: four weight loads and six broadcasts feed 24 VDPBF16PS, where twelve tokens × 32 rows
// needed two and twelve (Zen 4, one thread, 512 tokens × 2,048 × 2,048: 200 against 175 GFLOP/s; the
// FMA probe's F32 peak there is 115).
#include "CCPUDispatch.h"
#include "Level.h"
#include <stdlib.h>
#include <string.h>

static float widen(uint16_t bits) {
    uint32_t wide = (uint32_t)bits << 16;
    float f;
    memcpy(&f, &wide, 4);
    return f;
}

static uint16_t roundToBF16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu)) return (uint16_t)((bits >> 16) | 0x40);  // NaN stays NaN
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
}

static void roundRows(const float *x, long tokens, long columns, uint32_t *pairs) {
    long count = (columns + 1) / 2;
    for (long t = 0; t < tokens; t++) {
        const float *row = x + t * columns;
        uint32_t *out = pairs + t * count;
        for (long p = 0; p < count; p++) {
            uint32_t low = roundToBF16(row[2 * p]), high = 2 * p + 1 < columns ? roundToBF16(row[2 * p + 1]) : 0;
            out[p] = low | high << 16;
        }
    }
}

/// Weight (r, c) of a row-major or interleaved (`coppice_float_interleave`: groups of 8 rows by 8
/// columns) BF16 matrix; 0 past the last column.
static uint16_t weightAt(const uint16_t *w, int interleaved, long columns, long r, long c) {
    if (c >= columns) return 0;
    if (!interleaved) return w[r * columns + c];
    return w[(r / 8) * 8 * columns + (c / 8) * 64 + (r % 8) * 8 + c % 8];
}

static void multiplyGeneric(const uint16_t *w, int interleaved, long columns, long first, long count, const uint32_t *x, long tokens,
                            float *y, long ldy) {
    long pairs = (columns + 1) / 2;
    for (long t = 0; t < tokens; t++) {
        for (long r = first; r < first + count; r++) {
            float sum = 0;
            for (long p = 0; p < pairs; p++) {
                uint32_t xp = x[t * pairs + p];
                sum += widen(weightAt(w, interleaved, columns, r, 2 * p)) * widen((uint16_t)xp) +
                       widen(weightAt(w, interleaved, columns, r, 2 * p + 1)) * widen((uint16_t)(xp >> 16));
            }
            y[t * ldy + r] = sum;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

enum { panelRows = 64, pairBlock = 256 };

/// Rows [first, first + rows) (rows ≤ 64; the rest of the panel zero) as [pair][32 rows] words.
static void packPanel(const uint16_t *w, int interleaved, long columns, long first, long rows, uint32_t *panel) {
    long pairs = (columns + 1) / 2;
    memset(panel, 0, (size_t)pairs * panelRows * 4);
    for (long i = 0; i < rows; i++) {
        long r = first + i;
        if (!interleaved && columns % 2 == 0) {
            const uint16_t *row = w + r * columns;
            for (long p = 0; p < pairs; p++) memcpy(panel + p * panelRows + i, row + 2 * p, 4);
        } else {
            for (long p = 0; p < pairs; p++)
                panel[p * panelRows + i] = weightAt(w, interleaved, columns, r, 2 * p) | (uint32_t)weightAt(w, interleaved, columns, r, 2 * p + 1) << 16;
        }
    }
}

/// T tokens × 64 rows over pairs [p0, p1): y (row vectors masked by m) set on the first block, added to after.
#define TILE(T)                                                                                                     \
    BF16 static void tile##T(const uint32_t *panel, const uint32_t *x, long pairs, long p0, long p1, float *y, long ldy, \
                             const __mmask16 *m, int accumulate) {                                                  \
        __m512 a[T][4];                                                                                             \
        _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++)                                              \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++)                                          \
                a[t][v] = accumulate ? _mm512_maskz_loadu_ps(m[v], y + t * ldy + 16 * v) : _mm512_setzero_ps();    \
        for (long p = p0; p < p1; p++) {                                                                            \
            const uint32_t *w = panel + p * panelRows;                                                              \
            __m512bh w0 = (__m512bh)_mm512_loadu_si512(w), w1 = (__m512bh)_mm512_loadu_si512(w + 16);              \
            __m512bh w2 = (__m512bh)_mm512_loadu_si512(w + 32), w3 = (__m512bh)_mm512_loadu_si512(w + 48);         \
            _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++) {                                        \
                __m512bh xt = (__m512bh)_mm512_set1_epi32((int)x[t * pairs + p]);                                   \
                a[t][0] = _mm512_dpbf16_ps(a[t][0], w0, xt);                                                        \
                a[t][1] = _mm512_dpbf16_ps(a[t][1], w1, xt);                                                        \
                a[t][2] = _mm512_dpbf16_ps(a[t][2], w2, xt);                                                        \
                a[t][3] = _mm512_dpbf16_ps(a[t][3], w3, xt);                                                        \
            }                                                                                                       \
        }                                                                                                           \
        _Pragma("clang loop unroll(full)") for (int t = 0; t < T; t++)                                              \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++)                                          \
                _mm512_mask_storeu_ps(y + t * ldy + 16 * v, m[v], a[t][v]);                                         \
    }

TILE(6)
TILE(2)
TILE(1)

static void multiplyBF16(const uint16_t *w, int interleaved, long columns, long first, long count, const uint32_t *x, long tokens,
                         float *y, long ldy) {
    long pairs = (columns + 1) / 2;
    uint32_t *panel = aligned_alloc(64, ((size_t)pairs * panelRows * 4 + 63) / 64 * 64);
    if (!panel) return multiplyGeneric(w, interleaved, columns, first, count, x, tokens, y, ldy);
    for (long r0 = first; r0 < first + count; r0 += panelRows) {
        long rows = first + count - r0 < panelRows ? first + count - r0 : panelRows;
        packPanel(w, interleaved, columns, r0, rows, panel);
        __mmask16 m[4];
        for (int v = 0; v < 4; v++) {
            long n = rows - 16 * v;
            m[v] = n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
        }
        for (long p0 = 0; p0 < pairs; p0 += pairBlock) {
            long p1 = pairs - p0 < pairBlock ? pairs : p0 + pairBlock;
            long t = 0;
            for (; t + 6 <= tokens; t += 6) tile6(panel, x + t * pairs, pairs, p0, p1, y + t * ldy + r0, ldy, m, p0 > 0);
            for (; t + 2 <= tokens; t += 2) tile2(panel, x + t * pairs, pairs, p0, p1, y + t * ldy + r0, ldy, m, p0 > 0);
            for (; t < tokens; t++) tile1(panel, x + t * pairs, pairs, p0, p1, y + t * ldy + r0, ldy, m, p0 > 0);
        }
    }
    free(panel);
}

/// VCVTNE2PS2BF16 rounds to nearest even as `roundToBF16` does (NaNs stay NaNs); columns past the
/// last whole 32 in plain C.
BF16 static void roundRowsBF16(const float *x, long tokens, long columns, uint32_t *pairs) {
    long count = (columns + 1) / 2, whole = columns / 32 * 32;
    for (long t = 0; t < tokens; t++) {
        const float *row = x + t * columns;
        uint32_t *out = pairs + t * count;
        for (long c = 0; c < whole; c += 32) {
            // The second operand fills the low sixteen words.
            __m512 lo = _mm512_loadu_ps(row + c), hi = _mm512_loadu_ps(row + c + 16);
            _mm512_storeu_si512(out + c / 2, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        if (whole < columns) roundRows(row + whole, 1, columns - whole, out + whole / 2);
    }
}

/// CPUID read once (it traps to the hypervisor in a virtual machine).
static int hasBF16(void) {
    static int has = -1;
    if (has < 0) has = coppice_cpu_detect().avx512bf16;
    return has;
}

int coppice_bf16_product_available(void) { return hasBF16() && coppice_isa() >= COPPICE_ISA_AVX512; }

void coppice_bf16_round_activations(const float *x, long tokens, long columns, uint32_t *pairs) {
    if (coppice_bf16_product_available()) return roundRowsBF16(x, tokens, columns, pairs);
    roundRows(x, tokens, columns, pairs);
}

void coppice_bf16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const uint32_t *x,
                           long tokens, float *y, long ldy) {
    if (coppice_level_supported(level) >= COPPICE_ISA_AVX512 && hasBF16())
        return multiplyBF16(weights, interleaved, columns, first, count, x, tokens, y, ldy);
    multiplyGeneric(weights, interleaved, columns, first, count, x, tokens, y, ldy);
}

#else

int coppice_bf16_product_available(void) { return 0; }

void coppice_bf16_round_activations(const float *x, long tokens, long columns, uint32_t *pairs) { roundRows(x, tokens, columns, pairs); }

void coppice_bf16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const uint32_t *x,
                           long tokens, float *y, long ldy) {
    (void)level;
    multiplyGeneric(weights, interleaved, columns, first, count, x, tokens, y, ldy);
}

#endif
