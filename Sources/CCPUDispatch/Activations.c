// Sigmoid, tanh and SiLU on the exp of Exp.c (as Coppice's Swift SIMDMath: 1 / (1 + e^-x),
// 2 / (1 + e^-2x) − 1, x / (1 + e^-x)), per ISA level.
#include "CCPUDispatch.h"
#include "Level.h"
#include "ExpKernels.h"

static inline float activationOne(int op, float x) {
    switch (op) {
    case COPPICE_SIGMOID: return 1 / (1 + coppice_exp_one(-x));
    case COPPICE_TANH: return 2 / (1 + coppice_exp_one(-2 * x)) - 1;
    default: return x / (1 + coppice_exp_one(-x));
    }
}

static void activationGeneric(int op, const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = activationOne(op, x[i]);
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma"))) static void activationAVX2(int op, const float *x, float *y, size_t count) {
    const __m256 one = _mm256_set1_ps(1), two = _mm256_set1_ps(2), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), r;
        if (op == COPPICE_TANH) r = _mm256_sub_ps(_mm256_div_ps(two, _mm256_add_ps(one, coppice_exp8(_mm256_mul_ps(_mm256_set1_ps(-2), v)))), one);
        else {
            __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, coppice_exp8(_mm256_sub_ps(zero, v))));
            r = op == COPPICE_SIGMOID ? s : _mm256_mul_ps(v, s);
        }
        _mm256_storeu_ps(y + i, r);
    }
    activationGeneric(op, x + i, y + i, count - i);
}

__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))) static void activationAVX512(int op, const float *x, float *y, size_t count) {
    const __m512 one = _mm512_set1_ps(1), two = _mm512_set1_ps(2), zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i), r;
        if (op == COPPICE_TANH) r = _mm512_sub_ps(_mm512_div_ps(two, _mm512_add_ps(one, coppice_exp16(_mm512_mul_ps(_mm512_set1_ps(-2), v)))), one);
        else {
            __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, coppice_exp16(_mm512_sub_ps(zero, v))));
            r = op == COPPICE_SIGMOID ? s : _mm512_mul_ps(v, s);
        }
        _mm512_storeu_ps(y + i, r);
    }
    activationGeneric(op, x + i, y + i, count - i);
}
#endif

void coppice_activation_level(int level, int op, const float *x, float *y, size_t count) {
    level = coppice_level_supported(level);
#if defined(__x86_64__)
    if (level >= COPPICE_ISA_AVX512) { activationAVX512(op, x, y, count); return; }
    if (level >= COPPICE_ISA_AVX2) { activationAVX2(op, x, y, count); return; }
#endif
    activationGeneric(op, x, y, count);
}

void coppice_activation(int op, const float *x, float *y, size_t count) { coppice_activation_level(coppice_isa(), op, x, y, count); }
