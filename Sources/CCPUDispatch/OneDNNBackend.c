// oneDNN's sgemm, loaded at run time (Debian: libdnnl2). oneDNN generates its GEMM kernels per ISA from
// CPUID features (AVX2, AVX-512, AMX), not from a table of CPU models, so it runs AVX-512 code on
// Xeons that Debian's OpenBLAS 0.3.21 (Prescott kernels) and BLIS 0.9 (haswell kernels) do not know.
// Coppice's pool splits products itself, so every call runs on one OpenMP thread.
#include "CCPUDispatch.h"
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*dnnl_sgemm_t)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float,
                            float *, int64_t);
typedef int (*dnnl_isa_t)(void);
typedef int (*dnnl_set_isa_t)(int);
typedef void (*omp_set_num_threads_t)(int);

static int loaded = -1;
static dnnl_sgemm_t sgemm;
static omp_set_num_threads_t setThreads;
static const char *isaName = "";

// oneDNN's dnnl_cpu_isa_t values (dnnl_types.h, 2.x) for the ISA it will run, and the cap for a level.
static const char *nameOfISA(int isa) {
    switch (isa) {
    case 0x1: return "sse41";
    case 0x7: return "avx2";
    case 0x407: return "avx2_vnni";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return "other";
    }
}

static int capForLevel(int level) {
    switch (level) {
    case COPPICE_ISA_GENERIC: return 0x1;  // SSE4.1, oneDNN's lowest
    case COPPICE_ISA_AVX2: return 0x7;
    case COPPICE_ISA_AVX512: return 0x27;
    default: return 0x67;
    }
}

int coppice_onednn_available(void) {
    if (loaded >= 0) return loaded;
    void *handle = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    sgemm = handle ? (dnnl_sgemm_t)dlsym(handle, "dnnl_sgemm") : NULL;
    setThreads = handle ? (omp_set_num_threads_t)dlsym(handle, "omp_set_num_threads") : NULL;
    if (sgemm) {
        // The same cap as Coppice's own kernels (COPPICE_ISA), set before oneDNN generates any code.
        dnnl_set_isa_t setMaxISA = (dnnl_set_isa_t)dlsym(handle, "dnnl_set_max_cpu_isa");
        int level = coppice_isa();
        if (setMaxISA && level < coppice_isa_hardware()) setMaxISA(capForLevel(level));
        dnnl_isa_t effective = (dnnl_isa_t)dlsym(handle, "dnnl_get_effective_cpu_isa");
        if (effective) isaName = nameOfISA(effective());
    }
    loaded = sgemm != NULL;
    return loaded;
}

const char *coppice_onednn_isa(void) { return coppice_onednn_available() ? isaName : ""; }

void coppice_onednn_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                          long ldb, float beta, float *c, long ldc) {
    // The thread count is an OpenMP setting of the calling thread: pool threads each set their own.
    if (setThreads) setThreads(1);
    sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
