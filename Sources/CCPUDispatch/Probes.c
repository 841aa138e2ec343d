// Multiply-add throughput probes, one per ISA level: enough independent chains to cover the FMA
// latency (4-5 cycles) on two FMA units.
#include "CCPUDispatch.h"
#include "Level.h"
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define CHAINS 12

static double genericProbe(long iterations) {
    volatile float seed = 1.0f;
    float acc[CHAINS], a = seed * 0.999999f, b = seed * 1e-7f;
    for (int j = 0; j < CHAINS; j++) acc[j] = (float)j;
    double start = now();
    for (long i = 0; i < iterations; i++)
        for (int j = 0; j < CHAINS; j++) acc[j] = acc[j] * a + b;
    double seconds = now() - start;
    float sink = 0;
    for (int j = 0; j < CHAINS; j++) sink += acc[j];
    seed = sink;
    return 2.0 * CHAINS * (double)iterations / seconds;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static double avx2Probe(long iterations) {
    __m256 acc[CHAINS], a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < CHAINS; j++) acc[j] = _mm256_set1_ps((float)j);
    double start = now();
    for (long i = 0; i < iterations; i++)
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
    double seconds = now() - start;
    __m256 sum = acc[0];
    for (int j = 1; j < CHAINS; j++) sum = _mm256_add_ps(sum, acc[j]);
    volatile float sink = _mm256_cvtss_f32(sum);
    (void)sink;
    return 2.0 * 8 * CHAINS * (double)iterations / seconds;
}

__attribute__((target("avx512f"))) static double avx512Probe(long iterations) {
    __m512 acc[CHAINS], a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_set1_ps((float)j);
    double start = now();
    for (long i = 0; i < iterations; i++)
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    double seconds = now() - start;
    __m512 sum = acc[0];
    for (int j = 1; j < CHAINS; j++) sum = _mm512_add_ps(sum, acc[j]);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return 2.0 * 16 * CHAINS * (double)iterations / seconds;
}
#endif

double coppice_fma_probe(int level, long iterations) {
    level = coppice_level_supported(level);
#if defined(__x86_64__)
    if (level >= COPPICE_ISA_AVX512) return avx512Probe(iterations);
    if (level >= COPPICE_ISA_AVX2) return avx2Probe(iterations);
#endif
    return genericProbe(iterations);
}
