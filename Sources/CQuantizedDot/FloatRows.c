#include "CQuantizedDot.h"

/* F32, F16 and BF16 rows times an F32 vector, as in decode. Swift's loops (16 lanes, one accumulator)
   waited on their multiply-add chain: a 1B model's F16 weights streamed at 25 GB/s on two cores. Four
   chains of 8 lanes over 32 columns a step keep the loads, widenings and multiply-adds in flight (as
   llama.cpp's ggml_vec_dot_f16 does), so the rows stream at what memory gives. Also whole rows widened
   to F32 for prefill's BLAS panels: Swift vectorized that loop where it was inlined but not in the
   copy the pool's workers ran, which left the calling thread waiting on them. */

/* One value widened, the portable way (tails and CPUs without the vector kernels). */
static float widen(int format, const void *w, size_t j) {
    if (format == 0) return ((const float *)w)[j];
    uint16_t bits = ((const uint16_t *)w)[j];
    if (format == 1) {
        _Float16 h;
        __builtin_memcpy(&h, &bits, 2);
        return (float)h;
    }
    uint32_t wide = (uint32_t)bits << 16;
    float f;
    __builtin_memcpy(&f, &wide, 4);
    return f;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c"))) static inline

TARGET __m256 load_f32(const void *w, int j) { return _mm256_loadu_ps((const float *)w + j); }
TARGET __m256 load_f16(const void *w, int j) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j))); }
TARGET __m256 load_bf16(const void *w, int j) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

TARGET float horizontal_sum(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* One kernel per format, the widening load inlined; the tail (columns % 8) scalar. */
#define ROW_DOT(name, load, format)                                                                      \
    TARGET float name(const void *w, const float *x, int columns) {                                      \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                      \
        int j = 0;                                                                                       \
        for (; j + 32 <= columns; j += 32) {                                                             \
            a0 = _mm256_fmadd_ps(load(w, j), _mm256_loadu_ps(x + j), a0);                                \
            a1 = _mm256_fmadd_ps(load(w, j + 8), _mm256_loadu_ps(x + j + 8), a1);                        \
            a2 = _mm256_fmadd_ps(load(w, j + 16), _mm256_loadu_ps(x + j + 16), a2);                      \
            a3 = _mm256_fmadd_ps(load(w, j + 24), _mm256_loadu_ps(x + j + 24), a3);                      \
        }                                                                                                \
        for (; j + 8 <= columns; j += 8) a0 = _mm256_fmadd_ps(load(w, j), _mm256_loadu_ps(x + j), a0);   \
        float sum = horizontal_sum(a0, a1, a2, a3);                                                      \
        for (; j < columns; j++) sum += widen(format, w, j) * x[j];                                        \
        return sum;                                                                                      \
    }

ROW_DOT(row_dot_f32, load_f32, 0)
ROW_DOT(row_dot_f16, load_f16, 1)
ROW_DOT(row_dot_bf16, load_bf16, 2)

/* Four rows a step, each x vector loaded once for them, two chains per row; the tail scalar. For wide
   rows only: an x of 8,192 F32 (a 1B model's FFN down projection) fills the 32 KB L1, the streaming
   rows evict it, and one row at a time then reads x from L2 as often as the weights from memory. The
   1B F16 and F32 decode gained 9-10% against llama.cpp (alternating runs, docs/llama.md); at 2,048
   columns, where x stays in L1, four rows a step was slower. */
enum { wide_row = 4096 };
#define ROWS4_DOT(name, load, format)                                                                    \
    TARGET void name(const uint8_t *w, size_t stride, const float *x, int columns, float *y) {          \
        __m256 a[8];                                                                                     \
        for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();                                          \
        int j = 0;                                                                                       \
        for (; j + 16 <= columns; j += 16) {                                                             \
            __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);                         \
            for (int r = 0; r < 4; r++) {                                                                \
                a[2 * r] = _mm256_fmadd_ps(load(w + r * stride, j), x0, a[2 * r]);                       \
                a[2 * r + 1] = _mm256_fmadd_ps(load(w + r * stride, j + 8), x1, a[2 * r + 1]);           \
            }                                                                                            \
        }                                                                                                \
        __m256 zero = _mm256_setzero_ps();                                                               \
        for (int r = 0; r < 4; r++) {                                                                    \
            float sum = horizontal_sum(a[2 * r], a[2 * r + 1], zero, zero);                              \
            for (int k = j; k < columns; k++) sum += widen(format, w + r * stride, k) * x[k];            \
            y[r] = sum;                                                                                  \
        }                                                                                                \
    }

ROWS4_DOT(rows4_dot_f32, load_f32, 0)
ROWS4_DOT(rows4_dot_f16, load_f16, 1)
ROWS4_DOT(rows4_dot_bf16, load_bf16, 2)

void coppice_float_dot_rows(int format, const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    const uint8_t *row = rows;
    if (columns >= wide_row) {
        for (; count >= 4; count -= 4, row += 4 * stride, y += 4) {
            switch (format) {
            case 0: rows4_dot_f32(row, stride, x, columns, y); break;
            case 1: rows4_dot_f16(row, stride, x, columns, y); break;
            default: rows4_dot_bf16(row, stride, x, columns, y); break;
            }
        }
    }
    for (int r = 0; r < count; r++, row += stride) {
        switch (format) {
        case 0: y[r] = row_dot_f32(row, x, columns); break;
        case 1: y[r] = row_dot_f16(row, x, columns); break;
        default: y[r] = row_dot_bf16(row, x, columns); break;
        }
    }
}

TARGET void widen_f16(const uint16_t *source, size_t count, float *target) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(target + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(source + i))));
    for (; i < count; i++) target[i] = widen(1, source, i);
}

TARGET void widen_bf16(const uint16_t *source, size_t count, float *target) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(source + i)));
        _mm256_storeu_ps(target + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
    }
    for (; i < count; i++) target[i] = widen(2, source, i);
}

void coppice_float_widen(int format, const void *source, size_t count, float *target) {
    if (!coppice_quantized_dot_available()) {
        for (size_t i = 0; i < count; i++) target[i] = widen(format, source, i);
        return;
    }
    switch (format) {
    case 0: __builtin_memcpy(target, source, count * sizeof(float)); break;
    case 1: widen_f16(source, count, target); break;
    default: widen_bf16(source, count, target); break;
    }
}

#else

void coppice_float_widen(int format, const void *source, size_t count, float *target) {
    for (size_t i = 0; i < count; i++) target[i] = widen(format, source, i);
}

void coppice_float_dot_rows(int format, const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    const uint8_t *row = rows;
    for (int r = 0; r < count; r++, row += stride) {
        float sum = 0;
        for (int j = 0; j < columns; j++) sum += widen(format, row, j) * x[j];
        y[r] = sum;
    }
}

#endif
