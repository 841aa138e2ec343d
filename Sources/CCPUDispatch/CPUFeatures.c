// CPU features and the ISA level the dispatched kernels use (see CCPUDispatch.h).
#include "CCPUDispatch.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/// Linux hands out AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA).
static int requestTileData(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}
#endif

coppice_cpu_features coppice_cpu_detect(void) {
    coppice_cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(__x86_64__)
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xE0) == 0xE0;
    int fma = (c >> 12) & 1, f16c = (c >> 29) & 1, avx = (c >> 28) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    f.avx2 = ymm && avx && ((b >> 5) & 1);
    f.fma = ymm && fma;
    f.f16c = ymm && f16c;
    f.avx512f = zmm && ((b >> 16) & 1);
    f.avx512dq = f.avx512f && ((b >> 17) & 1);
    f.avx512bw = f.avx512f && ((b >> 30) & 1);
    f.avx512vl = f.avx512f && ((b >> 31) & 1);
    f.avx512vnni = f.avx512f && ((c >> 11) & 1);
    f.avx512vbmi2 = f.avx512f && ((c >> 6) & 1);
    f.avx512fp16 = f.avx512f && ((d >> 23) & 1);
    int amx = ((d >> 24) & 1) && ((d >> 25) & 1) && ((d >> 22) & 1);  // TILE, INT8, BF16
    unsigned int a1, b1, c1, d1;
    if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512bf16 = f.avx512f && ((a1 >> 5) & 1);
    f.amx = amx && (xcr0 & 0x60000) == 0x60000 && requestTileData();
#elif defined(__aarch64__)
    f.neon = 1;
#endif
    return f;
}

void coppice_cpu_brand(char *buffer, int size) {
    if (size <= 0) return;
    buffer[0] = 0;
#if defined(__x86_64__)
    unsigned int regs[12];
    if (__get_cpuid(0x80000000, &regs[0], &regs[1], &regs[2], &regs[3]) && regs[0] >= 0x80000004) {
        for (unsigned int i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        char name[49];
        memcpy(name, regs, 48);
        name[48] = 0;
        const char *start = name;
        while (*start == ' ') start++;
        strncpy(buffer, start, (size_t)size - 1);
        buffer[size - 1] = 0;
        return;
    }
#endif
    strncpy(buffer, "unknown", (size_t)size - 1);
    buffer[size - 1] = 0;
}

int coppice_isa_supported(coppice_cpu_features f) {
    if (!(f.avx2 && f.fma && f.f16c)) return COPPICE_ISA_GENERIC;
    if (!(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq)) return COPPICE_ISA_AVX2;
    return f.avx512vnni ? COPPICE_ISA_AVX512_VNNI : COPPICE_ISA_AVX512;
}

static int level = -1, hardwareLevel = -1;

int coppice_cpu_has_vbmi2(void) {
    static int has = -1;
    if (has < 0) has = coppice_cpu_detect().avx512vbmi2;
    return has;
}

int coppice_isa_hardware(void) {
    if (hardwareLevel < 0) hardwareLevel = coppice_isa_supported(coppice_cpu_detect());
    return hardwareLevel;
}

static int parseLevel(const char *text) {
    if (!text) return -1;
    if (!strcmp(text, "generic")) return COPPICE_ISA_GENERIC;
    if (!strcmp(text, "avx2")) return COPPICE_ISA_AVX2;
    if (!strcmp(text, "avx512")) return COPPICE_ISA_AVX512;
    if (!strcmp(text, "avx512-vnni")) return COPPICE_ISA_AVX512_VNNI;
    return -1;
}

int coppice_isa(void) {
    if (level < 0) {
        int supported = coppice_isa_hardware(), cap = parseLevel(getenv("COPPICE_ISA"));
        level = cap >= 0 && cap < supported ? cap : supported;
    }
    return level;
}
