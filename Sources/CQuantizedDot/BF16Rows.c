#include "CQuantizedDot.h"
#include "FloatFormats.h"
#include <stdlib.h>
#include <string.h>

/* BF16 rows times one activation row (decode) with AVX512-BF16's VDPBF16PS, x rounded to BF16 once
   per call, as llama.cpp's BF16 dot product does. Widening BF16 to F32 takes two instructions per 16
   weights before the multiply-add (zero-extend, shift); VDPBF16PS multiplies 32 pairs in one. On an
   AMD EPYC Zen 4 a 1B model's BF16 decode ran at 0.66 of llama.cpp's speed with the widening rows,
   0.90 with these (10.3 -> 13.0 tokens/s; the 57M model's 0.92 -> 1.06; docs/results/amd-zen4.md). */

static uint16_t round_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu)) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
}

static float widen_bf16(uint16_t bits) {
    uint32_t wide = (uint32_t)bits << 16;
    float f;
    memcpy(&f, &wide, 4);
    return f;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"))) static inline

int coppice_bf16_rows_available(void) {
    static int has = -1;
    if (has < 0) has = coppice_cpu_detect().avx512bf16;
    return has && coppice_rows_level() >= COPPICE_ISA_AVX512;
}

/* x as BF16 (nearest even, as `bfloat16Bits`): 32 values an instruction, the rest one by one. */
BF16 void round_x(const float *x, int columns, uint16_t *out) {
    int c = 0;
    for (; c + 32 <= columns; c += 32)
        _mm512_storeu_si512(out + c, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + c + 16), _mm512_loadu_ps(x + c)));
    for (; c < columns; c++) out[c] = round_to_bf16(x[c]);
}

BF16 __m512bh load_pairs(const uint16_t *p) { return (__m512bh)_mm512_loadu_si512(p); }

/* One row: four chains of 32 columns, prefetching where the widening rows do (`coppice_rows_prefetch`;
   without it an AMD EPYC Zen 4's 1B BF16 decode went 12.4 -> 13.4 tokens/s); a scalar tail. */
BF16 float row_dot(const uint16_t *w, const uint16_t *x, int columns) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0, prefetch = coppice_rows_prefetch();
    for (; j + 128 <= columns; j += 128) {
        for (int line = 0; prefetch && line < 4; line++) _mm_prefetch((const char *)(w + j) + 2048 + 64 * line, _MM_HINT_T0);
        a0 = _mm512_dpbf16_ps(a0, load_pairs(w + j), load_pairs(x + j));
        a1 = _mm512_dpbf16_ps(a1, load_pairs(w + j + 32), load_pairs(x + j + 32));
        a2 = _mm512_dpbf16_ps(a2, load_pairs(w + j + 64), load_pairs(x + j + 64));
        a3 = _mm512_dpbf16_ps(a3, load_pairs(w + j + 96), load_pairs(x + j + 96));
    }
    for (; j + 32 <= columns; j += 32) a0 = _mm512_dpbf16_ps(a0, load_pairs(w + j), load_pairs(x + j));
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; j < columns; j++) sum += widen_bf16(w[j]) * widen_bf16(x[j]);
    return sum;
}

/* One interleaved group (eight rows by eight columns a piece): a 64-byte load holds four rows' pieces,
   16 pairs, against x's four pairs of those columns in every 128-bit lane; a row's sums collect in
   its own lane. Two pieces a step, four chains. */
BF16 void group_dot(const uint16_t *group, int columns, const uint16_t *x, float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0, prefetch = coppice_rows_prefetch();
    for (; j + 16 <= columns; j += 16, group += 128) {
        for (int line = 0; prefetch && line < 4; line++) _mm_prefetch((const char *)group + 2048 + 64 * line, _MM_HINT_T0);
        __m512bh x0 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + j)));
        __m512bh x1 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + j + 8)));
        a0 = _mm512_dpbf16_ps(a0, load_pairs(group), x0);
        a1 = _mm512_dpbf16_ps(a1, load_pairs(group + 32), x0);
        a2 = _mm512_dpbf16_ps(a2, load_pairs(group + 64), x1);
        a3 = _mm512_dpbf16_ps(a3, load_pairs(group + 96), x1);
    }
    if (j < columns) {
        __m512bh x0 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + j)));
        a0 = _mm512_dpbf16_ps(a0, load_pairs(group), x0);
        a1 = _mm512_dpbf16_ps(a1, load_pairs(group + 32), x0);
    }
    float low[16], high[16];
    _mm512_storeu_ps(low, _mm512_add_ps(a0, a2));
    _mm512_storeu_ps(high, _mm512_add_ps(a1, a3));
    for (int r = 0; r < 4; r++) {
        y[r] = low[4 * r] + low[4 * r + 1] + low[4 * r + 2] + low[4 * r + 3];
        y[r + 4] = high[4 * r] + high[4 * r + 1] + high[4 * r + 2] + high[4 * r + 3];
    }
}

/* x rounded on the stack up to 16,384 columns (a Llama 3 70B's widest row is 28,672: on the heap). */
#define WITH_ROUNDED_X(body)                                                                      \
    uint16_t stack[16384];                                                                        \
    uint16_t *xb = columns <= 16384 ? stack : malloc((size_t)columns * 2);                        \
    if (!xb) abort();                                                                             \
    round_x(x, columns, xb);                                                                      \
    body;                                                                                         \
    if (xb != stack) free(xb);

void coppice_bf16_dot_rows(const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    WITH_ROUNDED_X(for (int r = 0; r < count; r++) y[r] = row_dot((const uint16_t *)((const uint8_t *)rows + r * stride), xb, columns))
}

void coppice_bf16_dot_groups(const void *groups, int count, int columns, const float *x, float *y) {
    WITH_ROUNDED_X(for (int g = 0; g < count; g++) group_dot((const uint16_t *)groups + (size_t)g * 8 * columns, columns, xb, y + 8 * g))
}

#else

int coppice_bf16_rows_available(void) { return 0; }

/* Not reached where the rows are not available; the same sums in plain C. */
void coppice_bf16_dot_rows(const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    for (int r = 0; r < count; r++) {
        const uint16_t *w = (const uint16_t *)((const uint8_t *)rows + r * stride);
        float sum = 0;
        for (int j = 0; j < columns; j++) sum += widen_bf16(w[j]) * widen_bf16(round_to_bf16(x[j]));
        y[r] = sum;
    }
}

void coppice_bf16_dot_groups(const void *groups, int count, int columns, const float *x, float *y) {
    const uint16_t *w = groups;
    for (int g = 0; g < count; g++)
        for (int r = 0; r < 8; r++) {
            float sum = 0;
            for (int j = 0; j < columns; j++) sum += widen_bf16(w[(size_t)g * 8 * columns + (j / 8) * 64 + r * 8 + j % 8]) * widen_bf16(round_to_bf16(x[j]));
            y[8 * g + r] = sum;
        }
}

#endif
