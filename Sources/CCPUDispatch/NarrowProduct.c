// C = A·B for a narrow B (n ≤ 16 columns), row-major: the Winograd product of a layer with few tiles
// (an 8×8 map at batch 1 has 4 F(4×4) tiles). A BLAS packs all of A for each such product, which then
// costs more than the multiply-adds; here A streams through once, each element broadcast against
// B's row of n columns (one or two vectors, the last one masked), with 8 (n ≤ 8) or 6 (n ≤ 16) rows
// of C in registers. With n ≤ 4 a broadcast would feed at most four useful lanes, so there C's
// elements are dot products along k instead: A loaded in whole vectors, each against the n rows of
// Bᵀ (transposed once per call, small enough for L1).
#include "CCPUDispatch.h"
#include "Level.h"
#include <stdlib.h>

static void narrowGeneric(long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        for (int first = 0; first < n; first += 16) {
            int width = n - first < 16 ? n - first : 16;
            float acc[16] = {0};
            for (long p = 0; p < k; p++) {
                float x = a[i * lda + p];
                for (int j = 0; j < width; j++) acc[j] += x * b[p * ldb + first + j];
            }
            for (int j = 0; j < width; j++) c[i * ldc + first + j] = acc[j];
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static __m256i laneMask(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// n ≤ 8: eight rows of C at a time, one (masked) vector each.
AVX2 static void narrow8(long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    __m256i mask = laneMask(n);
    long i = 0;
    for (; i + 8 <= m; i += 8) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        const float *r = a + i * lda;
        for (long p = 0; p < k; p++) {
            __m256 v = _mm256_maskload_ps(b + p * ldb, mask);
            c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + p), v, c0);
            c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + lda + p), v, c1);
            c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 2 * lda + p), v, c2);
            c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 3 * lda + p), v, c3);
            c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 4 * lda + p), v, c4);
            c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 5 * lda + p), v, c5);
            c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 6 * lda + p), v, c6);
            c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(r + 7 * lda + p), v, c7);
        }
        float *o = c + i * ldc;
        _mm256_maskstore_ps(o, mask, c0); _mm256_maskstore_ps(o + ldc, mask, c1);
        _mm256_maskstore_ps(o + 2 * ldc, mask, c2); _mm256_maskstore_ps(o + 3 * ldc, mask, c3);
        _mm256_maskstore_ps(o + 4 * ldc, mask, c4); _mm256_maskstore_ps(o + 5 * ldc, mask, c5);
        _mm256_maskstore_ps(o + 6 * ldc, mask, c6); _mm256_maskstore_ps(o + 7 * ldc, mask, c7);
    }
    for (; i < m; i++) {
        __m256 c0 = _mm256_setzero_ps();
        for (long p = 0; p < k; p++) c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i * lda + p), _mm256_maskload_ps(b + p * ldb, mask), c0);
        _mm256_maskstore_ps(c + i * ldc, mask, c0);
    }
}

// 8 < n ≤ 16: six rows of C at a time, two vectors each (the second masked).
AVX2 static void narrow16(long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    __m256i mask = laneMask(n - 8);
    long i = 0;
    for (; i + 6 <= m; i += 6) {
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        const float *r = a + i * lda;
        for (long p = 0; p < k; p++) {
            __m256 v0 = _mm256_loadu_ps(b + p * ldb), v1 = _mm256_maskload_ps(b + p * ldb + 8, mask);
            __m256 w = _mm256_broadcast_ss(r + p);
            c00 = _mm256_fmadd_ps(w, v0, c00); c01 = _mm256_fmadd_ps(w, v1, c01);
            w = _mm256_broadcast_ss(r + lda + p);
            c10 = _mm256_fmadd_ps(w, v0, c10); c11 = _mm256_fmadd_ps(w, v1, c11);
            w = _mm256_broadcast_ss(r + 2 * lda + p);
            c20 = _mm256_fmadd_ps(w, v0, c20); c21 = _mm256_fmadd_ps(w, v1, c21);
            w = _mm256_broadcast_ss(r + 3 * lda + p);
            c30 = _mm256_fmadd_ps(w, v0, c30); c31 = _mm256_fmadd_ps(w, v1, c31);
            w = _mm256_broadcast_ss(r + 4 * lda + p);
            c40 = _mm256_fmadd_ps(w, v0, c40); c41 = _mm256_fmadd_ps(w, v1, c41);
            w = _mm256_broadcast_ss(r + 5 * lda + p);
            c50 = _mm256_fmadd_ps(w, v0, c50); c51 = _mm256_fmadd_ps(w, v1, c51);
        }
        float *o = c + i * ldc;
        _mm256_storeu_ps(o, c00); _mm256_maskstore_ps(o + 8, mask, c01);
        _mm256_storeu_ps(o + ldc, c10); _mm256_maskstore_ps(o + ldc + 8, mask, c11);
        _mm256_storeu_ps(o + 2 * ldc, c20); _mm256_maskstore_ps(o + 2 * ldc + 8, mask, c21);
        _mm256_storeu_ps(o + 3 * ldc, c30); _mm256_maskstore_ps(o + 3 * ldc + 8, mask, c31);
        _mm256_storeu_ps(o + 4 * ldc, c40); _mm256_maskstore_ps(o + 4 * ldc + 8, mask, c41);
        _mm256_storeu_ps(o + 5 * ldc, c50); _mm256_maskstore_ps(o + 5 * ldc + 8, mask, c51);
    }
    for (; i < m; i++) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0;
        for (long p = 0; p < k; p++) {
            __m256 w = _mm256_broadcast_ss(a + i * lda + p);
            c0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(b + p * ldb), c0);
            c1 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + p * ldb + 8, mask), c1);
        }
        _mm256_storeu_ps(c + i * ldc, c0);
        _mm256_maskstore_ps(c + i * ldc + 8, mask, c1);
    }
}

// n ≤ 4: Bᵀ [4][k] (zero rows past n) into `bt`.
static void transposeNarrow(int n, long k, const float *b, long ldb, float *bt) {
    for (int j = 0; j < 4; j++)
        for (long p = 0; p < k; p++) bt[j * k + p] = j < n ? b[p * ldb + j] : 0;
}

// The sums of four vectors, in order.
AVX2 static __m128 sums4(__m256 y0, __m256 y1, __m256 y2, __m256 y3) {
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(y0, y1), _mm256_hadd_ps(y2, y3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

AVX2 static void storeRow(float *o, int n, __m128 s) {
    float v[4];
    _mm_storeu_ps(v, s);
    for (int j = 0; j < n; j++) o[j] = v[j];
}

// Two rows of C a step, four accumulators each (one per column of B, zero columns past n).
AVX2 static void dotStep2(const float *r0, const float *r1, const float *const b[4], long p, __m256i mask, int masked, __m256 s[2][4]) {
    __m256 x0 = masked ? _mm256_maskload_ps(r0 + p, mask) : _mm256_loadu_ps(r0 + p);
    __m256 x1 = masked ? _mm256_maskload_ps(r1 + p, mask) : _mm256_loadu_ps(r1 + p);
    for (int j = 0; j < 4; j++) {
        __m256 v = masked ? _mm256_maskload_ps(b[j] + p, mask) : _mm256_loadu_ps(b[j] + p);
        s[0][j] = _mm256_fmadd_ps(x0, v, s[0][j]);
        s[1][j] = _mm256_fmadd_ps(x1, v, s[1][j]);
    }
}

AVX2 static void narrowDotsAVX2(long m, int n, long k, const float *a, long lda, const float *bt, float *c, long ldc) {
    __m256i tail = laneMask((int)(k % 8));
    long kv = k - k % 8;
    const float *const b[4] = {bt, bt + k, bt + 2 * k, bt + 3 * k};
    for (long i = 0; i < m; i += 2) {
        const float *r0 = a + i * lda, *r1 = i + 1 < m ? r0 + lda : r0;
        __m256 s[2][4];
        for (int q = 0; q < 2; q++)
            for (int j = 0; j < 4; j++) s[q][j] = _mm256_setzero_ps();
        for (long p = 0; p < kv; p += 8) dotStep2(r0, r1, b, p, tail, 0, s);
        if (kv < k) dotStep2(r0, r1, b, kv, tail, 1, s);
        storeRow(c + i * ldc, n, sums4(s[0][0], s[0][1], s[0][2], s[0][3]));
        if (i + 1 < m) storeRow(c + (i + 1) * ldc, n, sums4(s[1][0], s[1][1], s[1][2], s[1][3]));
    }
}

#define AVX512 __attribute__((target("avx2,fma,avx512f")))

AVX512 static __m256 halves(__m512 z) {
    return _mm256_add_ps(_mm512_castps512_ps256(z), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z), 1)));
}

// Four rows of C a step, sixteen accumulators; the k tail masked.
AVX512 static void narrowDotsAVX512(long m, int n, long k, const float *a, long lda, const float *bt, float *c, long ldc) {
    __mmask16 tail = (__mmask16)((1u << (k % 16)) - 1);
    long kv = k - k % 16;
    const float *b[4] = {bt, bt + k, bt + 2 * k, bt + 3 * k};
    for (long i = 0; i < m; i += 4) {
        const float *r[4];
        for (int q = 0; q < 4; q++) r[q] = a + (i + q < m ? i + q : i) * lda;
        __m512 s[4][4];
        for (int q = 0; q < 4; q++)
            for (int j = 0; j < 4; j++) s[q][j] = _mm512_setzero_ps();
        for (long p = 0; p < kv; p += 16) {
            __m512 v[4], x[4];
            for (int j = 0; j < 4; j++) v[j] = _mm512_loadu_ps(b[j] + p);
            for (int q = 0; q < 4; q++) x[q] = _mm512_loadu_ps(r[q] + p);
            for (int q = 0; q < 4; q++)
                for (int j = 0; j < 4; j++) s[q][j] = _mm512_fmadd_ps(x[q], v[j], s[q][j]);
        }
        if (kv < k) {
            __m512 v[4], x[4];
            for (int j = 0; j < 4; j++) v[j] = _mm512_maskz_loadu_ps(tail, b[j] + kv);
            for (int q = 0; q < 4; q++) x[q] = _mm512_maskz_loadu_ps(tail, r[q] + kv);
            for (int q = 0; q < 4; q++)
                for (int j = 0; j < 4; j++) s[q][j] = _mm512_fmadd_ps(x[q], v[j], s[q][j]);
        }
        for (int q = 0; q < 4 && i + q < m; q++)
            storeRow(c + (i + q) * ldc, n, sums4(halves(s[q][0]), halves(s[q][1]), halves(s[q][2]), halves(s[q][3])));
    }
}

static void narrowDots(int level, long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    float *bt = malloc(sizeof(float) * 4 * (size_t)k);
    if (!bt) {
        narrow8(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    transposeNarrow(n, k, b, ldb, bt);
    if (level >= COPPICE_ISA_AVX512) narrowDotsAVX512(m, n, k, a, lda, bt, c, ldc);
    else narrowDotsAVX2(m, n, k, a, lda, bt, c, ldc);
    free(bt);
}
#endif

void coppice_narrow_product(int level, long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    level = coppice_level_supported(level);
    if (n <= 0 || m <= 0) return;
#if defined(__x86_64__)
    // Above four columns AVX-512 CPUs run the AVX2 variants: n ≤ 16 fills at most one 512-bit vector,
    // and the rows a 512-bit variant could hold in 32 registers would not change how A streams through.
    if (level >= COPPICE_ISA_AVX2 && n <= 4 && k >= 8) { narrowDots(level, m, n, k, a, lda, b, ldb, c, ldc); return; }
    if (level >= COPPICE_ISA_AVX2 && n <= 8) { narrow8(m, n, k, a, lda, b, ldb, c, ldc); return; }
    if (level >= COPPICE_ISA_AVX2 && n <= 16) { narrow16(m, n, k, a, lda, b, ldb, c, ldc); return; }
#endif
    narrowGeneric(m, n, k, a, lda, b, ldb, c, ldc);
}
