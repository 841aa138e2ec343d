// One CSR row times a dense matrix (CoppiceKernels/SparseProduct.swift's SpMM): out[0..<n] =
// Σ_k values[k] · xT[indices[k]·ldx + 0..<n]. Each nonzero scales a contiguous row of Xᵀ into
// accumulators that stay in registers across the row's nonzeros: 128 columns a pass (AVX-512: eight
// vectors, AVX2: sixteen), then 64 (AVX2), then two vectors and one, each with even and odd nonzeros summed
// apart, then scalars.
#include "CCPUDispatch.h"

static void rowGeneric(const float *values, const int32_t *indices, long count, const float *xT, long ldx, float *out, long n,
                       long c) {
    for (; c < n; c++) {
        float sum = 0;
        for (long k = 0; k < count; k++) sum += values[k] * xT[(long)indices[k] * ldx + c];
        out[c] = sum;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void rowAVX2(const float *values, const int32_t *indices, long count, const float *xT,
                                                        long ldx, float *out, long n) {
    long c = 0;
    // 128 columns a pass (sixteen accumulators): each nonzero's row of Xᵀ is read once however wide.
    for (; c + 128 <= n; c += 128) {
        __m256 a[16];
        for (int j = 0; j < 16; j++) a[j] = _mm256_setzero_ps();
        for (long k = 0; k < count; k++) {
            __m256 v = _mm256_broadcast_ss(values + k);
            const float *src = xT + (long)indices[k] * ldx + c;
            for (int j = 0; j < 16; j++) a[j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 8 * j), a[j]);
        }
        for (int j = 0; j < 16; j++) _mm256_storeu_ps(out + c + 8 * j, a[j]);
    }
    for (; c + 64 <= n; c += 64) {
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (long k = 0; k < count; k++) {
            __m256 v = _mm256_broadcast_ss(values + k);
            const float *src = xT + (long)indices[k] * ldx + c;
            for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 8 * j), a[j]);
        }
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + c + 8 * j, a[j]);
    }
    // Narrower panels: two accumulators per vector (even and odd nonzeros), so that short rows of
    // columns are not bound by the multiply-add latency.
    for (; c + 16 <= n; c += 16) {
        __m256 e0 = _mm256_setzero_ps(), e1 = e0, o0 = e0, o1 = e0;
        long k = 0;
        for (; k + 2 <= count; k += 2) {
            const float *s0 = xT + (long)indices[k] * ldx + c, *s1 = xT + (long)indices[k + 1] * ldx + c;
            __m256 v0 = _mm256_broadcast_ss(values + k), v1 = _mm256_broadcast_ss(values + k + 1);
            e0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(s0), e0); e1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(s0 + 8), e1);
            o0 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(s1), o0); o1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(s1 + 8), o1);
        }
        if (k < count) {
            const float *s0 = xT + (long)indices[k] * ldx + c;
            __m256 v0 = _mm256_broadcast_ss(values + k);
            e0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(s0), e0); e1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(s0 + 8), e1);
        }
        _mm256_storeu_ps(out + c, _mm256_add_ps(e0, o0));
        _mm256_storeu_ps(out + c + 8, _mm256_add_ps(e1, o1));
    }
    for (; c + 8 <= n; c += 8) {
        __m256 even = _mm256_setzero_ps(), odd = even;
        long k = 0;
        for (; k + 2 <= count; k += 2) {
            even = _mm256_fmadd_ps(_mm256_broadcast_ss(values + k), _mm256_loadu_ps(xT + (long)indices[k] * ldx + c), even);
            odd = _mm256_fmadd_ps(_mm256_broadcast_ss(values + k + 1), _mm256_loadu_ps(xT + (long)indices[k + 1] * ldx + c), odd);
        }
        if (k < count) even = _mm256_fmadd_ps(_mm256_broadcast_ss(values + k), _mm256_loadu_ps(xT + (long)indices[k] * ldx + c), even);
        _mm256_storeu_ps(out + c, _mm256_add_ps(even, odd));
    }
    rowGeneric(values, indices, count, xT, ldx, out, n, c);
}

__attribute__((target("avx512f"))) static void rowAVX512(const float *values, const int32_t *indices, long count, const float *xT,
                                                         long ldx, float *out, long n) {
    long c = 0;
    for (; c + 128 <= n; c += 128) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (long k = 0; k < count; k++) {
            __m512 v = _mm512_set1_ps(values[k]);
            const float *src = xT + (long)indices[k] * ldx + c;
            a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src), a0); a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 16), a1);
            a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 32), a2); a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 48), a3);
            a4 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 64), a4); a5 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 80), a5);
            a6 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 96), a6); a7 = _mm512_fmadd_ps(v, _mm512_loadu_ps(src + 112), a7);
        }
        float *dst = out + c;
        _mm512_storeu_ps(dst, a0); _mm512_storeu_ps(dst + 16, a1); _mm512_storeu_ps(dst + 32, a2); _mm512_storeu_ps(dst + 48, a3);
        _mm512_storeu_ps(dst + 64, a4); _mm512_storeu_ps(dst + 80, a5); _mm512_storeu_ps(dst + 96, a6); _mm512_storeu_ps(dst + 112, a7);
    }
    for (; c + 32 <= n; c += 32) {
        __m512 e0 = _mm512_setzero_ps(), e1 = e0, o0 = e0, o1 = e0;
        long k = 0;
        for (; k + 2 <= count; k += 2) {
            const float *s0 = xT + (long)indices[k] * ldx + c, *s1 = xT + (long)indices[k + 1] * ldx + c;
            __m512 v0 = _mm512_set1_ps(values[k]), v1 = _mm512_set1_ps(values[k + 1]);
            e0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(s0), e0); e1 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(s0 + 16), e1);
            o0 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(s1), o0); o1 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(s1 + 16), o1);
        }
        if (k < count) {
            const float *s0 = xT + (long)indices[k] * ldx + c;
            __m512 v0 = _mm512_set1_ps(values[k]);
            e0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(s0), e0); e1 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(s0 + 16), e1);
        }
        _mm512_storeu_ps(out + c, _mm512_add_ps(e0, o0));
        _mm512_storeu_ps(out + c + 16, _mm512_add_ps(e1, o1));
    }
    for (; c + 16 <= n; c += 16) {
        __m512 even = _mm512_setzero_ps(), odd = even;
        long k = 0;
        for (; k + 2 <= count; k += 2) {
            even = _mm512_fmadd_ps(_mm512_set1_ps(values[k]), _mm512_loadu_ps(xT + (long)indices[k] * ldx + c), even);
            odd = _mm512_fmadd_ps(_mm512_set1_ps(values[k + 1]), _mm512_loadu_ps(xT + (long)indices[k + 1] * ldx + c), odd);
        }
        if (k < count) even = _mm512_fmadd_ps(_mm512_set1_ps(values[k]), _mm512_loadu_ps(xT + (long)indices[k] * ldx + c), even);
        _mm512_storeu_ps(out + c, _mm512_add_ps(even, odd));
    }
    rowGeneric(values, indices, count, xT, ldx, out, n, c);
}
#endif

void coppice_csr_row_times_dense(int level, const float *values, const int32_t *indices, long count, const float *xT, long ldx,
                                 float *out, long n) {
#if defined(__x86_64__)
    if (level >= COPPICE_ISA_AVX512) { rowAVX512(values, indices, count, xT, ldx, out, n); return; }
    if (level >= COPPICE_ISA_AVX2) { rowAVX2(values, indices, count, xT, ldx, out, n); return; }
#endif
    rowGeneric(values, indices, count, xT, ldx, out, n, 0);
}
