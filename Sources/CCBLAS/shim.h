// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). openblas_set_num_threads is declared there too.
#include <cblas.h>

// LAPACK, inside OpenBLAS (and Accelerate): the Cholesky factor of a symmetric positive-definite
// matrix and the inverse from it (column-major; `uplo` "L" or "U").
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

// Whether this build may use fused multiply-add instructions. Swift's SIMD `addingProduct` becomes a
// software call per lane without them (about 100× slower), so kernels that rely on it check this.
// Clang sees the same -target-cpu as the Swift compiler.
static inline int coppice_compiled_with_fma(void) {
#if defined(__FMA__) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

// Whether this build targets 512-bit vectors: the direct convolution kernel keeps 16 accumulators of
// 16 floats in registers, which fits AVX-512's 32 registers and spills everywhere else.
static inline int coppice_compiled_with_avx512(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}
