#include "CQuantizedDot.h"
#include <string.h>

/* Interleaved Q4_0 / Q8_0: eight rows' blocks side by side (as many bytes as their eight GGML
   blocks), so that one 256-bit register holds 4 weight bytes of each of the 8 rows and the integer
   products land one row per int32 lane. A block's scales are then applied once per 8 rows × 32
   columns × token with no horizontal sums, which is what lets an int8 product beat F32 BLAS in
   prefill (llama.cpp repacks Q4_0 the same way), and the rows stream as one sequence in decode.
   Group g, block b at (g · blocks + b) · 8 · blockBytes: the 8 rows' F16 scales, then chunks of 32
   bytes, chunk k holding bytes 4k…4k+3 of each row's quants (16 nibble bytes for Q4_0, 32 int8
   for Q8_0), row after row. */

static inline int quant_bytes(int q4) { return q4 ? 16 : 32; }

void coppice_interleave(int q4, int rows, int blocks, const uint8_t *source, uint8_t *target) {
    const int data = quant_bytes(q4), block = 2 + data;
    for (int g = 0; g < rows / 8; g++) {
        for (int b = 0; b < blocks; b++) {
            uint8_t *out = target + ((size_t)g * blocks + b) * 8 * block;
            for (int r = 0; r < 8; r++) {
                const uint8_t *in = source + ((size_t)(8 * g + r) * blocks + b) * block;
                memcpy(out + 2 * r, in, 2);
                for (int k = 0; k < data / 4; k++) memcpy(out + 16 + 32 * k + 4 * r, in + 2 + 4 * k, 4);
            }
        }
    }
}

void coppice_deinterleave_row(int q4, int blocks, const uint8_t *group, int lane, uint8_t *row) {
    const int data = quant_bytes(q4), block = 2 + data;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *in = group + (size_t)b * 8 * block;
        memcpy(row + block * b, in + 2 * lane, 2);
        for (int k = 0; k < data / 4; k++) memcpy(row + block * b + 2 + 4 * k, in + 16 + 32 * k + 4 * lane, 4);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

static inline int32_t load32(const int8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* One token's 8-row block product, unsigned nibbles times signed activations, −8 · Σx folded into
   the start. AVX2 keeps the eight pair sums in int16 (|8 · 2 · 15 · 128| < 2^15) and widens once;
   VNNI accumulates in int32 on two chains so that the multiply-adds do not wait on each other. */
#define BLOCK_PRODUCT_AVX2(S, LO, HI, X, START)                                                    \
    {                                                                                               \
        __m256i p = _mm256_setzero_si256();                                                         \
        for (int k = 0; k < 4; k++) {                                                               \
            p = _mm256_add_epi16(p, _mm256_maddubs_epi16(LO[k], _mm256_set1_epi32(load32(X + 4 * k))));      \
            p = _mm256_add_epi16(p, _mm256_maddubs_epi16(HI[k], _mm256_set1_epi32(load32(X + 16 + 4 * k)))); \
        }                                                                                           \
        S = _mm256_add_epi32(START, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));                    \
    }

#define BLOCK_PRODUCT_VNNI(S, LO, HI, X, START)                                                    \
    {                                                                                               \
        __m256i a = START, c = _mm256_setzero_si256();                                              \
        for (int k = 0; k < 4; k++) {                                                               \
            a = _mm256_dpbusd_epi32(a, LO[k], _mm256_set1_epi32(load32(X + 4 * k)));                \
            c = _mm256_dpbusd_epi32(c, HI[k], _mm256_set1_epi32(load32(X + 16 + 4 * k)));           \
        }                                                                                           \
        S = _mm256_add_epi32(a, c);                                                                 \
    }

/* A tile of 8 rows × NT tokens: each block's nibbles are unpacked once and used for every token. */
#define TILE(NAME, PRODUCT, TARGET, NT)                                                             \
    TARGET static void NAME##_##NT(int blocks, const uint8_t *w, const float *scales, const int8_t *values, \
                                   const int32_t *sums, float *y, size_t ldy) {                     \
        __m256 acc[NT];                                                                             \
        for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();                                  \
        const __m256i mask = _mm256_set1_epi8(0x0F);                                                \
        const size_t columns = 32 * (size_t)blocks;                                                 \
        for (int b = 0; b < blocks; b++) {                                                          \
            const uint8_t *block = w + (size_t)b * 144;                                             \
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));                    \
            __m256i lo[4], hi[4];                                                                   \
            for (int k = 0; k < 4; k++) {                                                           \
                __m256i v = _mm256_loadu_si256((const __m256i *)(block + 16 + 32 * k));             \
                lo[k] = _mm256_and_si256(v, mask);                                                  \
                hi[k] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);                            \
            }                                                                                       \
            for (int t = 0; t < NT; t++) {                                                          \
                const int8_t *x = values + t * columns + 32 * (size_t)b;                            \
                __m256i s;                                                                          \
                PRODUCT(s, lo, hi, x, _mm256_set1_epi32(-8 * sums[t * blocks + b]))                 \
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, _mm256_set1_ps(scales[t * blocks + b])), acc[t]); \
            }                                                                                       \
        }                                                                                           \
        for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);                         \
    }

#define TILES(NAME, PRODUCT, TARGET)                                                                \
    TILE(NAME, PRODUCT, TARGET, 1) TILE(NAME, PRODUCT, TARGET, 2)                                   \
    TILE(NAME, PRODUCT, TARGET, 3) TILE(NAME, PRODUCT, TARGET, 4)                                   \
    static void (*const NAME##_tiles[5])(int, const uint8_t *, const float *, const int8_t *, const int32_t *, float *, size_t) = \
        {0, NAME##_1, NAME##_2, NAME##_3, NAME##_4};

TILES(q4x8_avx2, BLOCK_PRODUCT_AVX2, AVX2)
TILES(q4x8_vnni, BLOCK_PRODUCT_VNNI, VNNI)

void coppice_q4_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const int32_t *sums, float *y, size_t ldy) {
    int vnni = coppice_quantized_dot_uses_vnni();
    const size_t columns = 32 * (size_t)blocks;
    for (int g = 0; g < count; g++) {
        const uint8_t *w = groups + (size_t)g * blocks * 144;
        for (int t = 0; t < tokens; t += 4) {
            int n = tokens - t < 4 ? tokens - t : 4;
            (vnni ? q4x8_vnni_tiles : q4x8_avx2_tiles)[n](blocks, w, scales + (size_t)t * blocks, values + t * columns,
                                                         sums + (size_t)t * blocks, y + t * ldy + 8 * g, ldy);
        }
    }
}

/* Q8_0: the weights are signed. VNNI multiplies unsigned activations (x + 128, from the caller)
   by them and takes 128 · Σw back out, Σw from the block's chunks once for every token; AVX2 moves
   the weights' signs onto x (|w| · ±x) and widens each chunk's pairs before they could saturate. */
#define Q8_TILE_VNNI(NT)                                                                            \
    VNNI static void q8x8_vnni_##NT(int blocks, const uint8_t *w, const float *scales, const uint8_t *values, \
                                    float *y, size_t ldy) {                                         \
        __m256 acc[NT];                                                                             \
        for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();                                  \
        const __m256i ones = _mm256_set1_epi8(1);                                                   \
        const size_t columns = 32 * (size_t)blocks;                                                 \
        for (int b = 0; b < blocks; b++) {                                                          \
            const uint8_t *block = w + (size_t)b * 272;                                             \
            for (int line = 0; line < 5; line++) _mm_prefetch((const char *)block + 2048 + 64 * line, _MM_HINT_T0); \
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));                    \
            __m256i q[8], sum = _mm256_setzero_si256();                                             \
            for (int k = 0; k < 8; k++) {                                                           \
                q[k] = _mm256_loadu_si256((const __m256i *)(block + 16 + 32 * k));                  \
                sum = _mm256_dpbusd_epi32(sum, ones, q[k]);                                         \
            }                                                                                       \
            const __m256i start = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sum, 7)); \
            for (int t = 0; t < NT; t++) {                                                          \
                const int8_t *x = (const int8_t *)values + t * columns + 32 * (size_t)b;            \
                __m256i a = start, c = _mm256_setzero_si256();                                      \
                for (int k = 0; k < 4; k++) {                                                       \
                    a = _mm256_dpbusd_epi32(a, _mm256_set1_epi32(load32(x + 4 * k)), q[k]);         \
                    c = _mm256_dpbusd_epi32(c, _mm256_set1_epi32(load32(x + 16 + 4 * k)), q[4 + k]); \
                }                                                                                   \
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a, c)),                \
                                         _mm256_mul_ps(d, _mm256_set1_ps(scales[t * blocks + b])), acc[t]); \
            }                                                                                       \
        }                                                                                           \
        for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);                         \
    }

#define Q8_TILE_AVX2(NT)                                                                            \
    AVX2 static void q8x8_avx2_##NT(int blocks, const uint8_t *w, const float *scales, const uint8_t *values, \
                                    float *y, size_t ldy) {                                         \
        __m256 acc[NT];                                                                             \
        for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();                                  \
        const __m256i ones = _mm256_set1_epi16(1);                                                  \
        const size_t columns = 32 * (size_t)blocks;                                                 \
        for (int b = 0; b < blocks; b++) {                                                          \
            const uint8_t *block = w + (size_t)b * 272;                                             \
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));                    \
            __m256i q[8], magnitude[8];                                                             \
            for (int k = 0; k < 8; k++) {                                                           \
                q[k] = _mm256_loadu_si256((const __m256i *)(block + 16 + 32 * k));                  \
                magnitude[k] = _mm256_sign_epi8(q[k], q[k]);                                        \
            }                                                                                       \
            for (int t = 0; t < NT; t++) {                                                          \
                const int8_t *x = (const int8_t *)values + t * columns + 32 * (size_t)b;            \
                __m256i s = _mm256_setzero_si256();                                                 \
                for (int k = 0; k < 8; k++) {                                                       \
                    __m256i signed_x = _mm256_sign_epi8(_mm256_set1_epi32(load32(x + 4 * k)), q[k]); \
                    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[k], signed_x), ones)); \
                }                                                                                   \
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, _mm256_set1_ps(scales[t * blocks + b])), acc[t]); \
            }                                                                                       \
        }                                                                                           \
        for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);                         \
    }

Q8_TILE_VNNI(1) Q8_TILE_VNNI(2) Q8_TILE_VNNI(3) Q8_TILE_VNNI(4)
Q8_TILE_AVX2(1) Q8_TILE_AVX2(2) Q8_TILE_AVX2(3) Q8_TILE_AVX2(4)
typedef void (*q8_tile)(int, const uint8_t *, const float *, const uint8_t *, float *, size_t);
static const q8_tile q8x8_vnni_tiles[5] = {0, q8x8_vnni_1, q8x8_vnni_2, q8x8_vnni_3, q8x8_vnni_4};
static const q8_tile q8x8_avx2_tiles[5] = {0, q8x8_avx2_1, q8x8_avx2_2, q8x8_avx2_3, q8x8_avx2_4};

void coppice_shift_activations(const int8_t *values, size_t count, uint8_t *shifted) {
    for (size_t i = 0; i < count; i++) shifted[i] = (uint8_t)values[i] ^ 0x80;
}

void coppice_q8_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const uint8_t *shifted, float *y, size_t ldy) {
    const size_t columns = 32 * (size_t)blocks;
    int vnni = coppice_quantized_dot_uses_vnni();
    const uint8_t *activations = vnni ? shifted : (const uint8_t *)values;
    for (int g = 0; g < count; g++) {
        const uint8_t *w = groups + (size_t)g * blocks * 272;
        for (int t = 0; t < tokens; t += 4) {
            int n = tokens - t < 4 ? tokens - t : 4;
            (vnni ? q8x8_vnni_tiles : q8x8_avx2_tiles)[n](blocks, w, scales + (size_t)t * blocks, activations + t * columns,
                                                         y + t * ldy + 8 * g, ldy);
        }
    }
}

#else

/* Elsewhere: each row back in GGML's layout through the plain C dot products. */
static void multiply_rows(int q4, int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                          const int8_t *values, const int32_t *sums, float *y, size_t ldy) {
    uint8_t row[34 * blocks];
    const size_t group = (size_t)blocks * 8 * (q4 ? 18 : 34);
    for (int g = 0; g < count; g++) {
        for (int lane = 0; lane < 8; lane++) {
            coppice_deinterleave_row(q4, blocks, groups + g * group, lane, row);
            for (int t = 0; t < tokens; t++) coppice_dot_rows(q4, blocks, row, 0, 1, scales + (size_t)t * blocks,
                                                              values + (size_t)t * 32 * blocks, sums ? sums + (size_t)t * blocks : 0,
                                                              y + t * ldy + 8 * g + lane);
        }
    }
}

void coppice_q4_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const int32_t *sums, float *y, size_t ldy) {
    multiply_rows(1, blocks, groups, count, tokens, scales, values, sums, y, ldy);
}

void coppice_shift_activations(const int8_t *values, size_t count, uint8_t *shifted) {
    for (size_t i = 0; i < count; i++) shifted[i] = (uint8_t)values[i] ^ 0x80;
}

void coppice_q8_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const uint8_t *shifted, float *y, size_t ldy) {
    (void)shifted;
    multiply_rows(0, blocks, groups, count, tokens, scales, values, 0, y, ldy);
}

#endif
