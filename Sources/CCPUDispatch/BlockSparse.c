// Block-sparse (BSR) rows times a dense matrix (CoppiceKernels/BlockSparseMatrix.swift): each r × c
// block's columns are a contiguous run of Xᵀ rows, scaled into the block row's r accumulator rows of
// n; with n = 1, small dot products against a contiguous slice of x. In Swift the scaled adds were
// shaped by the build's CPU target: on an Intel Xeon (family 6 model 207) a `-target-cpu native` build
// ran the block-sparse cases of `coppice bench sparse` 1.31× faster (median) than a plain one. The
// generic variant is the portable path (CPUs below AVX2, arm64).
#include "CCPUDispatch.h"
#include "Level.h"
#include <string.h>

static inline void axpyGeneric(float v, const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] += v * x[i];
}

// One kernel per level: the same loops, the scaled add inlined.
#define BSR_ROWS(name, attributes, axpy)                                                                        \
    attributes static void name(const float *values, const int32_t *starts, const int32_t *blockColumns, long r, long c,      \
                                long rows, long columns, long first, long end, const float *xT, long n, float *yT,        \
                                float *acc) {                                                                             \
        for (long b = first; b < end; b++) {                                                                      \
            memset(acc, 0, sizeof(float) * (size_t)(r * n));                                                      \
            for (long k = starts[b]; k < starts[b + 1]; k++) {                                                    \
                long left = (long)blockColumns[k] * c, width = c < columns - left ? c : columns - left;           \
                const float *block = values + k * r * c;                                                          \
                if (n == 1) {                                                                                     \
                    for (long i = 0; i < r; i++) {                                                                \
                        float sum = 0;                                                                            \
                        for (long j = 0; j < width; j++) sum += block[i * c + j] * xT[left + j];                 \
                        acc[i] += sum;                                                                            \
                    }                                                                                             \
                    continue;                                                                                     \
                }                                                                                                 \
                for (long j = 0; j < width; j++)                                                                  \
                    for (long i = 0; i < r; i++)                                                                  \
                        if (block[i * c + j] != 0) axpy(block[i * c + j], xT + (left + j) * n, acc + i * n, n);  \
            }                                                                                                     \
            long live = r < rows - b * r ? r : rows - b * r;                                                      \
            memcpy(yT + b * r * n, acc, sizeof(float) * (size_t)(live * n));                                      \
        }                                                                                                         \
    }

BSR_ROWS(rowsGeneric, , axpyGeneric)

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx2,fma,avx512f")))

AVX2 static inline void axpyAVX2(float v, const float *x, float *y, long n) {
    __m256 a = _mm256_set1_ps(v);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = __builtin_fmaf(v, x[i], y[i]);
}

AVX512 static inline void axpyAVX512(float v, const float *x, float *y, long n) {
    __m512 a = _mm512_set1_ps(v);
    long i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, tail, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(tail, x + i), _mm512_maskz_loadu_ps(tail, y + i)));
    }
}

BSR_ROWS(rowsAVX2, AVX2, axpyAVX2)
BSR_ROWS(rowsAVX512, AVX512, axpyAVX512)
#endif

void coppice_bsr_block_rows(int level, const float *values, const int32_t *blockStarts, const int32_t *blockColumns, long r, long c,
                            long rows, long columns, long firstBlockRow, long endBlockRow, const float *xT, long n, float *yT,
                            float *accumulator) {
    level = coppice_level_supported(level);
#if defined(__x86_64__)
    if (level >= COPPICE_ISA_AVX512) {
        rowsAVX512(values, blockStarts, blockColumns, r, c, rows, columns, firstBlockRow, endBlockRow, xT, n, yT, accumulator);
        return;
    }
    if (level >= COPPICE_ISA_AVX2) {
        rowsAVX2(values, blockStarts, blockColumns, r, c, rows, columns, firstBlockRow, endBlockRow, xT, n, yT, accumulator);
        return;
    }
#endif
    rowsGeneric(values, blockStarts, blockColumns, r, c, rows, columns, firstBlockRow, endBlockRow, xT, n, yT, accumulator);
}
