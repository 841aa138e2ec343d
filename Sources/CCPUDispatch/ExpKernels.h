// The exp kernels of Exp.c that other kernels of this target build on (not part of the module's API).
#ifndef C_CPU_DISPATCH_EXP_KERNELS_H
#define C_CPU_DISPATCH_EXP_KERNELS_H

float coppice_exp_one(float x);

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) __m256 coppice_exp8(__m256 x);
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))) __m512 coppice_exp16(__m512 x);
#endif

#endif
