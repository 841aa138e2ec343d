// 2×2, stride-2 max pooling for inference (CoppiceKernels/Pooling.swift): no argmax to keep, so the
// AVX2 variant takes 8 outputs a step from two rows of 16 inputs. NaN wins, as in PyTorch.
#include "CCPUDispatch.h"
#include "Level.h"

static inline float max2(float a, float b) { return (b > a || b != b) ? b : a; }

static void rowsGeneric(const float *top, const float *bottom, float *out, long outWidth, long q) {
    for (; q < outWidth; q++) out[q] = max2(max2(top[2 * q], top[2 * q + 1]), max2(bottom[2 * q], bottom[2 * q + 1]));
}

#if defined(__x86_64__)
#include <immintrin.h>

// max(a, b) that returns NaN when either is (vmaxps returns its second operand when either is NaN).
__attribute__((target("avx2"))) static inline __m256 maxNaN(__m256 a, __m256 b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

__attribute__((target("avx2"))) static void rowsAVX2(const float *top, const float *bottom, float *out, long outWidth) {
    long q = 0;
    for (; q + 8 <= outWidth; q += 8) {
        __m256 m0 = maxNaN(_mm256_loadu_ps(top + 2 * q), _mm256_loadu_ps(bottom + 2 * q));
        __m256 m1 = maxNaN(_mm256_loadu_ps(top + 2 * q + 8), _mm256_loadu_ps(bottom + 2 * q + 8));
        // Even and odd columns; within each 128-bit half: m0's pairs then m1's.
        __m256 even = _mm256_shuffle_ps(m0, m1, 0x88), odd = _mm256_shuffle_ps(m0, m1, 0xDD);
        __m256 pooled = maxNaN(even, odd);
        _mm256_storeu_ps(out + q, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pooled), 0xD8)));
    }
    rowsGeneric(top, bottom, out, outWidth, q);
}
#endif

void coppice_max_pool_2x2(int level, const float *x, float *y, long planes, long height, long width) {
    level = coppice_level_supported(level);
    long outHeight = height / 2, outWidth = width / 2;
    for (long plane = 0; plane < planes; plane++) {
        const float *src = x + plane * height * width;
        float *dst = y + plane * outHeight * outWidth;
        for (long p = 0; p < outHeight; p++) {
            const float *top = src + 2 * p * width;
#if defined(__x86_64__)
            if (level >= COPPICE_ISA_AVX2) { rowsAVX2(top, top + width, dst + p * outWidth, outWidth); continue; }
#endif
            rowsGeneric(top, top + width, dst + p * outWidth, outWidth, 0);
        }
    }
}
