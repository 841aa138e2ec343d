#include "CQuantizedDot.h"

/* F16 rows times an F32 vector, as in decode. Swift's loop (16 lanes, one accumulator) waited on its
   multiply-add chain and streamed a 1B model's F16 weights at 25 GB/s on two cores; four chains
   of 8 lanes over 32 columns a step keep the converts and multiply-adds in flight (as llama.cpp's
   ggml_vec_dot_f16 does). */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx2,fma,f16c")))
static float row_dot(const uint16_t *w, const float *x, int columns) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0;
    for (; j + 32 <= columns; j += 32) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + j))), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + j + 8))), _mm256_loadu_ps(x + j + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + j + 16))), _mm256_loadu_ps(x + j + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + j + 24))), _mm256_loadu_ps(x + j + 24), a3);
    }
    for (; j + 8 <= columns; j += 8) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + j))), _mm256_loadu_ps(x + j), a0);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float sum = _mm_cvtss_f32(h);
    for (; j < columns; j++) sum += _cvtsh_ss(w[j]) * x[j];
    return sum;
}

void coppice_f16_dot_rows(const uint16_t *rows, size_t stride, int count, int columns, const float *x, float *y) {
    for (int r = 0; r < count; r++) y[r] = row_dot(rows + r * stride, x, columns);
}

#else

void coppice_f16_dot_rows(const uint16_t *rows, size_t stride, int count, int columns, const float *x, float *y) {
    for (int r = 0; r < count; r++) {
        float sum = 0;
        for (int j = 0; j < columns; j++) {
            _Float16 h;
            __builtin_memcpy(&h, rows + r * stride + j, 2);
            sum += (float)h * x[j];
        }
        y[r] = sum;
    }
}

#endif
