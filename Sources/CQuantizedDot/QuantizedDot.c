#include "CQuantizedDot.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

static int has_vnni(void) {
    static int vnni = -1;
    if (vnni < 0) {
        __builtin_cpu_init();
        vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    }
    return vnni;
}

int coppice_quantized_dot_available(void) {
    static int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return available;
}

AVX2 static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// A block's F16 scale times the activations' scale, in all 8 lanes. (_cvtsh_ss would merge into
/// an undefined register and chain every block to the previous one's accumulator.)
AVX2 static inline __m256 block_scale(const uint8_t *block, float activation_scale) {
    uint16_t half;
    memcpy(&half, block, 2);
    __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(half));
    return _mm256_set1_ps(_mm_cvtss_f32(d) * activation_scale);
}

/// Weight j (< 16) of a Q4_0 block is the low nibble of byte j, weight j + 16 its high nibble; both
/// less 8.
AVX2 static inline __m256i q4_weights(const uint8_t *block) {
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    __m256i w = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_sub_epi8(_mm256_and_si256(w, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

/// Σ w·x over 32 signed bytes each, as 8 int32 lanes: the unsigned-by-signed byte products need the
/// weights' signs moved onto x first (|w| · sign(w)·x; |w| ≤ 128, so pairs stay below 2^15).
AVX2 static inline __m256i products_avx2(__m256i w, __m256i x) {
    __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

VNNI static inline __m256i products_vnni(__m256i w, __m256i x) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

/* One loop per instruction set and format; two accumulators so that consecutive blocks overlap. */
#define DOT_LOOP(BYTES, WEIGHTS, PRODUCTS)                                                          \
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                  \
    int b = 0;                                                                                      \
    for (; b + 1 < blocks; b += 2) {                                                                \
        const uint8_t *b0 = row + BYTES * b, *b1 = b0 + BYTES;                                      \
        __m256i p0 = PRODUCTS(WEIGHTS(b0), _mm256_loadu_si256((const __m256i *)(values + 32 * b)));  \
        __m256i p1 = PRODUCTS(WEIGHTS(b1), _mm256_loadu_si256((const __m256i *)(values + 32 * b + 32))); \
        acc0 = _mm256_fmadd_ps(block_scale(b0, scales[b]), _mm256_cvtepi32_ps(p0), acc0);           \
        acc1 = _mm256_fmadd_ps(block_scale(b1, scales[b + 1]), _mm256_cvtepi32_ps(p1), acc1);       \
    }                                                                                               \
    if (b < blocks) {                                                                               \
        const uint8_t *b0 = row + BYTES * b;                                                        \
        __m256i p0 = PRODUCTS(WEIGHTS(b0), _mm256_loadu_si256((const __m256i *)(values + 32 * b)));  \
        acc0 = _mm256_fmadd_ps(block_scale(b0, scales[b]), _mm256_cvtepi32_ps(p0), acc0);           \
    }                                                                                               \
    return horizontal_sum(_mm256_add_ps(acc0, acc1));

AVX2 static inline __m256i q8_weights(const uint8_t *block) { return _mm256_loadu_si256((const __m256i *)(block + 2)); }

AVX2 static float dot_q4_0_avx2(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    DOT_LOOP(18, q4_weights, products_avx2)
}

VNNI static float dot_q4_0_vnni(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    DOT_LOOP(18, q4_weights, products_vnni)
}

AVX2 static float dot_q8_0_avx2(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    DOT_LOOP(34, q8_weights, products_avx2)
}

VNNI static float dot_q8_0_vnni(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    DOT_LOOP(34, q8_weights, products_vnni)
}

float coppice_dot_q4_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    return has_vnni() ? dot_q4_0_vnni(blocks, row, scales, values) : dot_q4_0_avx2(blocks, row, scales, values);
}

float coppice_dot_q8_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    return has_vnni() ? dot_q8_0_vnni(blocks, row, scales, values) : dot_q8_0_avx2(blocks, row, scales, values);
}

#else

/* Elsewhere the same sums in plain C (correct, not fast: callers keep their F32 path there). */
int coppice_quantized_dot_available(void) { return 0; }

static float block_scale(const uint8_t *block) {
    uint16_t half;
    memcpy(&half, block, 2);
    return (float)*(const _Float16 *)&half;
}

float coppice_dot_q4_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    float sum = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = row + 18 * b;
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            s += ((block[2 + j] & 0x0F) - 8) * values[32 * b + j] + ((block[2 + j] >> 4) - 8) * values[32 * b + j + 16];
        }
        sum += block_scale(block) * scales[b] * (float)s;
    }
    return sum;
}

float coppice_dot_q8_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values) {
    float sum = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *block = row + 34 * b;
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += (int8_t)block[2 + j] * values[32 * b + j];
        sum += block_scale(block) * scales[b] * (float)s;
    }
    return sum;
}

#endif
