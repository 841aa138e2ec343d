// BLIS's sgemm, loaded at run time (Debian: libblis4). Coppice links OpenBLAS; where OpenBLAS runs a
// fallback core on a newer CPU (0.3.21 runs Prescott's SSE3 kernels on unknown Intel models), BLIS
// picks its kernels by CPUID features instead. Loaded with RTLD_LOCAL so that its CBLAS symbols never
// replace OpenBLAS's.
#include "CCPUDispatch.h"
#include <dlfcn.h>
#include <stddef.h>

typedef void (*bli_sgemm_t)(int, int, long, long, long, const float *, const float *, long, long, const float *, long, long,
                            const float *, float *, long, long);
typedef int (*bli_arch_query_id_t)(void);
typedef const char *(*bli_arch_string_t)(int);

static int loaded = -1;
static bli_sgemm_t sgemm;
static const char *arch = "";

int coppice_blis_available(void) {
    if (loaded >= 0) return loaded;
    const char *names[] = {"libblis.so.4", "libblis.so", "/usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4",
                           "/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4"};
    void *handle = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !handle; i++) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    sgemm = handle ? (bli_sgemm_t)dlsym(handle, "bli_sgemm") : NULL;
    if (sgemm) {
        bli_arch_query_id_t query = (bli_arch_query_id_t)dlsym(handle, "bli_arch_query_id");
        bli_arch_string_t name = (bli_arch_string_t)dlsym(handle, "bli_arch_string");
        if (query && name) arch = name(query());
    }
    loaded = sgemm != NULL;
    return loaded;
}

const char *coppice_blis_arch(void) { return coppice_blis_available() ? arch : ""; }

void coppice_blis_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                        long ldb, float beta, float *c, long ldc) {
    // Transposes as strides: op(A)[i][p] is a[i·lda + p], or a[p·lda + i] when A is transposed.
    long rsa = transA ? 1 : lda, csa = transA ? lda : 1, rsb = transB ? 1 : ldb, csb = transB ? ldb : 1;
    sgemm(0, 0, m, n, k, &alpha, a, rsa, csa, b, rsb, csb, &beta, c, ldc, 1);
}
