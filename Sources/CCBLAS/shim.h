// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). openblas_set_num_threads is declared there too.
#include <cblas.h>

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
