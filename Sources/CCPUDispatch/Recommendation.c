// DLRM's two non-GEMM inference kernels (CoppiceRec/Model/DotInteraction.swift,
// CoppiceKernels/EmbeddingKernels.swift).
//
// Dot interaction: eight examples share a vector (lane = example), so every pair's dot product is
// plain 8-lane multiply-adds over d with no horizontal sums. The group's n vectors are first
// interleaved to [n][d][8] (kept by the caller for the backward pass); AVX2 takes four partners j of
// each vector i at once, so one load of x_i[c] feeds four multiply-adds.
//
// Embedding bags: with one or a few rows per bag the sum is bound by the latency of rows read at
// random from a large table, so the rows of the bag `lookahead` bags ahead are prefetched.
#include "CCPUDispatch.h"
#include "Level.h"
#include "Transpose.h"

static void interleave(const float *const *vectors, int n, long batch, int d, long group, float *x) {
    for (int i = 0; i < n; i++) {
        float *dst = x + (long)i * d * 8;
        for (int lane = 0; lane < 8; lane++) {
            long row = group * 8 + lane;
            if (row < batch) {
                const float *src = vectors[i] + row * d;
                for (int c = 0; c < d; c++) dst[c * 8 + lane] = src[c];
            } else {
                for (int c = 0; c < d; c++) dst[c * 8 + lane] = 0;
            }
        }
    }
}

static void pairsGeneric(const float *x, int n, int d, float *sums) {
    long p = 0;
    for (int i = 1; i < n; i++) {
        for (int j = 0; j < i; j++, p++) {
            float acc[8] = {0};
            const float *xi = x + (long)i * d * 8, *xj = x + (long)j * d * 8;
            for (int c = 0; c < d; c++)
                for (int l = 0; l < 8; l++) acc[l] += xi[c * 8 + l] * xj[c * 8 + l];
            for (int l = 0; l < 8; l++) sums[p * 8 + l] = acc[l];
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void pairsAVX2(const float *x, int n, int d, float *sums) {
    long row = 0;  // pairs of row i start at i(i-1)/2
    for (int i = 1; i < n; row += i, i++) {
        const float *xi = x + (long)i * d * 8;
        int j = 0;
        for (; j + 4 <= i; j += 4) {
            const float *x0 = x + (long)j * d * 8, *x1 = x0 + d * 8, *x2 = x1 + d * 8, *x3 = x2 + d * 8;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < d; c++) {
                __m256 v = _mm256_loadu_ps(xi + c * 8);
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x0 + c * 8), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x1 + c * 8), a1);
                a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x2 + c * 8), a2);
                a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(x3 + c * 8), a3);
            }
            float *s = sums + (row + j) * 8;
            _mm256_storeu_ps(s, a0); _mm256_storeu_ps(s + 8, a1); _mm256_storeu_ps(s + 16, a2); _mm256_storeu_ps(s + 24, a3);
        }
        for (; j < i; j++) {
            const float *xj = x + (long)j * d * 8;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            int c = 0;
            for (; c + 2 <= d; c += 2) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + c * 8), _mm256_loadu_ps(xj + c * 8), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + c * 8 + 8), _mm256_loadu_ps(xj + c * 8 + 8), a1);
            }
            if (c < d) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + c * 8), _mm256_loadu_ps(xj + c * 8), a0);
            _mm256_storeu_ps(sums + (row + j) * 8, _mm256_add_ps(a0, a1));
        }
    }
}
#endif

void coppice_dot_interaction_groups(int level, const float *const *vectors, int n, long batch, int d, long firstGroup,
                                    long endGroup, float *interleaved, float *sums, float *out) {
    level = coppice_level_supported(level);
    long pairs = (long)n * (n - 1) / 2;
    for (long group = firstGroup; group < endGroup; group++) {
        float *x = interleaved + group * n * d * 8;
        interleave(vectors, n, batch, d, group, x);
#if defined(__x86_64__)
        if (level >= COPPICE_ISA_AVX2) pairsAVX2(x, n, d, sums);
        else
#endif
            pairsGeneric(x, n, d, sums);
        for (int lane = 0; lane < 8 && group * 8 + lane < batch; lane++) {
            float *dst = out + (group * 8 + lane) * pairs;
            for (long p = 0; p < pairs; p++) dst[p] = sums[p * 8 + lane];
        }
    }
}

// Backward: d x_i = Σ_{j≠i} g(i,j)·x_j per example. The group's pair gradients become a symmetric
// n × n matrix of 8-lane weights (zero diagonal), so each component block is n multiply-adds with no
// branches; the 8 components × 8 examples block is then transposed to the examples' rows of dx.
static void pairWeights(const float *g, int n, long batch, long group, float *weights) {
    long pairs = (long)n * (n - 1) / 2, p = 0;
    for (int i = 0; i < n; i++)
        for (int l = 0; l < 8; l++) weights[((long)i * n + i) * 8 + l] = 0;
    for (int i = 1; i < n; i++) {
        for (int j = 0; j < i; j++, p++) {
            float *wij = weights + ((long)i * n + j) * 8, *wji = weights + ((long)j * n + i) * 8;
            for (int l = 0; l < 8; l++) {
                long row = group * 8 + l;
                wij[l] = wji[l] = row < batch ? g[row * pairs + p] : 0;
            }
        }
    }
}

static void backwardGeneric(const float *x, const float *weights, int n, long batch, int d, long group, float *dx) {
    for (int i = 0; i < n; i++) {
        for (int l = 0; l < 8 && group * 8 + l < batch; l++) {
            float *row = dx + ((long)i * batch + group * 8 + l) * d;
            for (int c = 0; c < d; c++) {
                float acc = 0;
                for (int j = 0; j < n; j++) acc += weights[((long)i * n + j) * 8 + l] * x[((long)j * d + c) * 8 + l];
                row[c] = acc;
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void backwardAVX2(const float *x, const float *weights, int n, long batch, int d,
                                                             long group, float *dx) {
    int lanes = batch - group * 8 < 8 ? (int)(batch - group * 8) : 8;
    for (int i = 0; i < n; i++) {
        const float *w = weights + (long)i * n * 8;
        float *rows = dx + ((long)i * batch + group * 8) * d;
        int c = 0;
        for (; c + 8 <= d; c += 8) {
            __m256 a[8];
            for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
            for (int j = 0; j < n; j++) {
                __m256 wj = _mm256_loadu_ps(w + j * 8);
                const float *xj = x + ((long)j * d + c) * 8;
                for (int k = 0; k < 8; k++) a[k] = _mm256_fmadd_ps(wj, _mm256_loadu_ps(xj + k * 8), a[k]);
            }
            coppice_transpose8(a);  // a[l] now holds example l's 8 components
            for (int l = 0; l < lanes; l++) _mm256_storeu_ps(rows + (long)l * d + c, a[l]);
        }
        for (; c < d; c++) {
            __m256 acc = _mm256_setzero_ps();
            for (int j = 0; j < n; j++) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + j * 8), _mm256_loadu_ps(x + ((long)j * d + c) * 8), acc);
            float lane[8];
            _mm256_storeu_ps(lane, acc);
            for (int l = 0; l < lanes; l++) rows[(long)l * d + c] = lane[l];
        }
    }
}
#endif

void coppice_dot_interaction_backward_groups(int level, const float *interleaved, int n, long batch, int d, const float *g,
                                             long firstGroup, long endGroup, float *weights, float *dx) {
    level = coppice_level_supported(level);
    for (long group = firstGroup; group < endGroup; group++) {
        const float *x = interleaved + group * n * d * 8;
        pairWeights(g, n, batch, group, weights);
#if defined(__x86_64__)
        if (level >= COPPICE_ISA_AVX2) backwardAVX2(x, weights, n, batch, d, group, dx);
        else
#endif
            backwardGeneric(x, weights, n, batch, d, group, dx);
    }
}

void coppice_embedding_bags(const float *table, int d, const int32_t *indices, long count, const int32_t *offsets, long bags,
                            long firstBag, long endBag, int mean, float *out) {
    enum { lookahead = 8 };
    for (long b = firstBag; b < endBag; b++) {
        long ahead = b + lookahead;
        if (ahead < endBag) {
            long start = offsets[ahead], end = ahead + 1 < bags ? offsets[ahead + 1] : count;
            for (long j = start; j < end; j++) {
                const char *row = (const char *)(table + (long)indices[j] * d);
                for (long byte = 0; byte < (long)d * 4; byte += 64) __builtin_prefetch(row + byte);
            }
        }
        long start = offsets[b], end = b + 1 < bags ? offsets[b + 1] : count;
        float *dst = out + b * d;
        for (int c = 0; c < d; c++) dst[c] = 0;
        for (long j = start; j < end; j++) {
            const float *src = table + (long)indices[j] * d;
            for (int c = 0; c < d; c++) dst[c] += src[c];
        }
        if (mean && end > start) {
            float scale = 1.0f / (float)(end - start);
            for (int c = 0; c < d; c++) dst[c] *= scale;
        }
    }
}
