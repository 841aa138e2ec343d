#include "CQuantizedDot.h"
#include "CCPUDispatch.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

static int prefer_avx2 = 0;

/* CCPUDispatch's level (CPUID, capped by COPPICE_ISA), lowered to AVX2 where the tests ask. */
int coppice_rows_level(void) {
    int level = coppice_isa();
    return prefer_avx2 && level > COPPICE_ISA_AVX2 ? COPPICE_ISA_AVX2 : level;
}

static int has_vnni(void) { return coppice_rows_level() >= COPPICE_ISA_AVX512_VNNI; }

int coppice_quantized_dot_available(void) { return coppice_isa() >= COPPICE_ISA_AVX2; }

AVX2 static inline float half_sum(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float horizontal_sum(__m256 v) {
    return half_sum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

/// A block's F16 scale times the activations' scale, in all 8 lanes. (_cvtsh_ss would merge into
/// an undefined register and chain every block to the previous one's accumulator.)
AVX2 static inline __m256 block_scale(const uint8_t *block, float activation_scale) {
    uint16_t half;
    memcpy(&half, block, 2);
    __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(half));
    return _mm256_set1_ps(_mm_cvtss_f32(d) * activation_scale);
}

/// Four blocks' F16 scales converted at once, times the activations' scale (lanes 0-3).
AVX2 static inline __m256 four_scales(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d, float s) {
    uint16_t h[4];
    memcpy(h, a, 2); memcpy(h + 1, b, 2); memcpy(h + 2, c, 2); memcpy(h + 3, d, 2);
    __m128 scales = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)h)), _mm_set1_ps(s));
    return _mm256_castps128_ps256(scales);
}

/// Weight j (< 16) of a Q4_0 block is the low nibble of byte j, weight j + 16 its high nibble; kept
/// unsigned (0…15): the −8 is applied once per block through the activations' sum.
AVX2 static inline __m256i q4_nibbles(const uint8_t *block) {
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    __m256i w = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_and_si256(w, _mm256_set1_epi8(0x0F));
}

/* Σ u·x + start over 32 bytes each, as 8 int32 lanes, u unsigned and x signed. AVX2 multiplies byte
   pairs into saturating int16 (safe for nibbles: 2·15·128 < 2^15); VNNI accumulates in int32. */
AVX2 static inline __m256i unsigned_products_avx2(__m256i start, __m256i u, __m256i x) {
    return _mm256_add_epi32(start, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
}

VNNI static inline __m256i unsigned_products_vnni(__m256i start, __m256i u, __m256i x) {
    return _mm256_dpbusd_epi32(start, u, x);
}

AVX2 static inline __m256i q8_load(const uint8_t *block) { return _mm256_loadu_si256((const __m256i *)(block + 2)); }

/* Q8_0 weights are signed. With VNNI they are made unsigned (w + 128, corrected through the sum);
   AVX2's int16 pairs would saturate there, so it moves the weights' signs onto x instead. */
AVX2 static inline __m256i q8_products_avx2(__m256i start, const uint8_t *block, __m256i x) {
    __m256i w = q8_load(block);
    __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_add_epi32(start, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

VNNI static inline __m256i q8_products_vnni(__m256i start, const uint8_t *block, __m256i x) {
    __m256i w = _mm256_xor_si256(q8_load(block), _mm256_set1_epi8((char)0x80));
    return _mm256_dpbusd_epi32(start, w, x);
}

AVX2 static inline __m256i q4_products_avx2(__m256i start, const uint8_t *block, __m256i x) {
    return unsigned_products_avx2(start, q4_nibbles(block), x);
}

VNNI static inline __m256i q4_products_vnni(__m256i start, const uint8_t *block, __m256i x) {
    return unsigned_products_vnni(start, q4_nibbles(block), x);
}

/* Q4_0 rows go four at a time, Q8_0 rows one at a time: their kernel is quick enough that one
   sequential stream is as fast as memory allows (33 GB/s here; four interleaved rows reached 20).
   Two Q4_0 rows in one register: row a's 16 bytes in the low half, row b's in the high half. Their
   low nibbles meet x[0..<16] and their high nibbles x[16..<32], each copied to both halves, so the
   int32 lanes 0-3 sum row a and lanes 4-7 row b, with half the unpacking of one row at a time. */
AVX2 static inline __m256i q4_pair_nibbles(const uint8_t *a, const uint8_t *b, __m256i *high) {
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(a + 2))),
                                        _mm_loadu_si128((const __m128i *)(b + 2)), 1);
    __m256i mask = _mm256_set1_epi8(0x0F);
    *high = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    return _mm256_and_si256(v, mask);
}

AVX2 static inline __m256i q4_pair_avx2(const uint8_t *a, const uint8_t *b, __m256i xlo, __m256i xhi, __m256i start) {
    __m256i high, low = q4_pair_nibbles(a, b, &high);
    __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(low, xlo), _mm256_maddubs_epi16(high, xhi));
    return _mm256_add_epi32(start, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

VNNI static inline __m256i q4_pair_vnni(const uint8_t *a, const uint8_t *b, __m256i xlo, __m256i xhi, __m256i start) {
    __m256i high, low = q4_pair_nibbles(a, b, &high);
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(start, low, xlo), high, xhi);
}

#define Q4_ROWS_LOOP(PAIR)                                                                           \
    __m256 ab = _mm256_setzero_ps(), cd = ab;                                                        \
    const uint8_t *r0 = rows, *r1 = rows + stride, *r2 = rows + 2 * stride, *r3 = rows + 3 * stride; \
    const __m256i first = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), second = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3); \
    for (int b = 0; b < blocks; b++) {                                                               \
        const __m128i *x = (const __m128i *)(values + 32 * b);                                       \
        __m256i xlo = _mm256_broadcastsi128_si256(_mm_loadu_si128(x));                               \
        __m256i xhi = _mm256_broadcastsi128_si256(_mm_loadu_si128(x + 1));                           \
        int correction = -8 * sums[b];                                                               \
        __m256i start = _mm256_setr_epi32(correction, 0, 0, 0, correction, 0, 0, 0);                 \
        int o = 18 * b;                                                                              \
        /* Four interleaved rows hide the stream from the hardware prefetcher (2048-column rows      \
           streamed at 14 GB/s, 31 with this): fetch the same bytes of the next four rows. */        \
        _mm_prefetch((const char *)(r0 + 4 * stride + o), _MM_HINT_T0);                             \
        _mm_prefetch((const char *)(r1 + 4 * stride + o), _MM_HINT_T0);                             \
        _mm_prefetch((const char *)(r2 + 4 * stride + o), _MM_HINT_T0);                             \
        _mm_prefetch((const char *)(r3 + 4 * stride + o), _MM_HINT_T0);                             \
        __m256 d = four_scales(r0 + o, r1 + o, r2 + o, r3 + o, scales[b]);                           \
        ab = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, first), _mm256_cvtepi32_ps(PAIR(r0 + o, r1 + o, xlo, xhi, start)), ab); \
        cd = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, second), _mm256_cvtepi32_ps(PAIR(r2 + o, r3 + o, xlo, xhi, start)), cd); \
    }                                                                                                \
    y[0] = half_sum(_mm256_castps256_ps128(ab)); y[1] = half_sum(_mm256_extractf128_ps(ab, 1));     \
    y[2] = half_sum(_mm256_castps256_ps128(cd)); y[3] = half_sum(_mm256_extractf128_ps(cd, 1));

/* One row, two blocks per step into two accumulators (one chain of multiply-adds waits ~4 cycles
   per block; the 1B model decoded 40% slower with it). */
#define ROW_STEP(ACC, BYTES, PRODUCTS, OFFSET, B)                                                    \
    {                                                                                                \
        __m256i x = _mm256_loadu_si256((const __m256i *)(values + 32 * (B)));                        \
        __m256i start = _mm256_setr_epi32(-(OFFSET) * sums[B], 0, 0, 0, 0, 0, 0, 0);                 \
        const uint8_t *block = rows + BYTES * (B);                                                   \
        ACC = _mm256_fmadd_ps(block_scale(block, scales[B]), _mm256_cvtepi32_ps(PRODUCTS(start, block, x)), ACC); \
    }

#define ROW_LOOP(BYTES, PRODUCTS, OFFSET)                                                            \
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;                                                  \
    int b = 0;                                                                                       \
    for (; b + 1 < blocks; b += 2) {                                                                 \
        ROW_STEP(acc0, BYTES, PRODUCTS, OFFSET, b)                                                   \
        ROW_STEP(acc1, BYTES, PRODUCTS, OFFSET, b + 1)                                               \
    }                                                                                                \
    if (b < blocks) ROW_STEP(acc0, BYTES, PRODUCTS, OFFSET, b)                                       \
    y[0] = horizontal_sum(_mm256_add_ps(acc0, acc1));

#define ROW_KERNEL(NAME, BYTES, PRODUCTS, OFFSET, TARGET)                                            \
    TARGET static void NAME##_1(int blocks, const uint8_t *rows, const float *scales,                \
                                const int8_t *values, const int32_t *sums, float *y) {               \
        ROW_LOOP(BYTES, PRODUCTS, OFFSET)                                                            \
    }

/* Q4_1: the nibbles follow d and the minimum m, and are unsigned as they are; m meets the
   activations through their sum: Σ (d·q + m)·a·x = d·a·Σ q·x + m·a·Σ x. */
#define Q4_1_STEP(ACC, MINS, PRODUCTS, B)                                                              \
    {                                                                                                \
        __m256i x = _mm256_loadu_si256((const __m256i *)(values + 32 * (B)));                        \
        const uint8_t *block = rows + 20 * (B);                                                      \
        __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)(block + 4)), 4), \
                                                      _mm_loadu_si128((const __m128i *)(block + 4))), _mm256_set1_epi8(0x0F)); \
        ACC = _mm256_fmadd_ps(block_scale(block, scales[B]), _mm256_cvtepi32_ps(PRODUCTS(_mm256_setzero_si256(), q, x)), ACC); \
        MINS = _mm256_fmadd_ps(block_scale(block + 2, scales[B]), _mm256_set1_ps((float)sums[B]), MINS); \
    }

#define Q4_1_KERNEL(NAME, PRODUCTS, TARGET)                                                          \
    TARGET static void NAME##_1(int blocks, const uint8_t *rows, const float *scales,                \
                                const int8_t *values, const int32_t *sums, float *y) {               \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, mins = acc0;                                 \
        int b = 0;                                                                                   \
        for (; b + 1 < blocks; b += 2) {                                                             \
            Q4_1_STEP(acc0, mins, PRODUCTS, b)                                                       \
            Q4_1_STEP(acc1, mins, PRODUCTS, b + 1)                                                   \
        }                                                                                            \
        if (b < blocks) Q4_1_STEP(acc0, mins, PRODUCTS, b)                                           \
        /* Every lane of mins holds the same sum: one lane counts. */                                \
        y[0] = horizontal_sum(_mm256_add_ps(acc0, acc1)) + _mm256_cvtss_f32(mins);                   \
    }

Q4_1_KERNEL(q4_1_avx2, unsigned_products_avx2, AVX2)
Q4_1_KERNEL(q4_1_vnni, unsigned_products_vnni, VNNI)

/* One Q4_1 row times four tokens: each block's nibbles unpacked once for the four (prefill). */
#define Q4_1_TOKENS_KERNEL(NAME, PRODUCTS, TARGET)                                                   \
    TARGET static void NAME##_4(int blocks, const uint8_t *row, const float *scales, const int8_t *values, \
                                const int32_t *sums, float *y, size_t ldy) {                         \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        float mins[4] = {0, 0, 0, 0};                                                                \
        for (int b = 0; b < blocks; b++) {                                                           \
            const uint8_t *block = row + 20 * b;                                                     \
            __m128i packed = _mm_loadu_si128((const __m128i *)(block + 4));                          \
            __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)); \
            uint16_t halves[2];                                                                      \
            memcpy(halves, block, 4);                                                                \
            __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(halves[0] | (uint32_t)halves[1] << 16))); \
            float d = _mm_cvtss_f32(dm), m = _mm_cvtss_f32(_mm_movehdup_ps(dm));                     \
            for (int i = 0; i < 4; i++) {                                                            \
                const size_t at = (size_t)i * blocks + b;                                            \
                __m256i x = _mm256_loadu_si256((const __m256i *)(values + 32 * at));                 \
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(d * scales[at]), _mm256_cvtepi32_ps(PRODUCTS(_mm256_setzero_si256(), q, x)), acc[i]); \
                mins[i] += m * scales[at] * (float)sums[at];                                         \
            }                                                                                        \
        }                                                                                            \
        for (int i = 0; i < 4; i++) y[i * ldy] = horizontal_sum(acc[i]) + mins[i];                   \
    }

Q4_1_TOKENS_KERNEL(q4_1_tokens_avx2, unsigned_products_avx2, AVX2)
Q4_1_TOKENS_KERNEL(q4_1_tokens_vnni, unsigned_products_vnni, VNNI)

/* Four Q4_1 rows times one token (decode), each block's activations loaded once for the four, and
   the next four rows' bytes prefetched as the Q4_0 rows are (four streams at once defeat the
   hardware prefetcher otherwise). */
#define Q4_1_ROWS_KERNEL(NAME, PRODUCTS, TARGET)                                                     \
    TARGET static void NAME##_4(int blocks, const uint8_t *rows, size_t stride, const float *scales, \
                                const int8_t *values, const int32_t *sums, float *y) {               \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        float mins[4] = {0, 0, 0, 0};                                                                \
        for (int b = 0; b < blocks; b++) {                                                           \
            __m256i x = _mm256_loadu_si256((const __m256i *)(values + 32 * b));                     \
            float a = scales[b], s = a * (float)sums[b];                                             \
            for (int r = 0; r < 4; r++) {                                                            \
                const uint8_t *block = rows + r * stride + 20 * b;                                   \
                _mm_prefetch((const char *)(block + 4 * stride), _MM_HINT_T0);                       \
                __m128i packed = _mm_loadu_si128((const __m128i *)(block + 4));                      \
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)); \
                uint16_t halves[2];                                                                  \
                memcpy(halves, block, 4);                                                            \
                __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(halves[0] | (uint32_t)halves[1] << 16))); \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm) * a), _mm256_cvtepi32_ps(PRODUCTS(_mm256_setzero_si256(), q, x)), acc[r]); \
                mins[r] += _mm_cvtss_f32(_mm_movehdup_ps(dm)) * s;                                   \
            }                                                                                        \
        }                                                                                            \
        for (int r = 0; r < 4; r++) y[r] = horizontal_sum(acc[r]) + mins[r];                        \
    }

Q4_1_ROWS_KERNEL(q4_1_rows_avx2, unsigned_products_avx2, AVX2)
Q4_1_ROWS_KERNEL(q4_1_rows_vnni, unsigned_products_vnni, VNNI)

void coppice_q4_1_multiply(int blocks, const uint8_t *rows, size_t stride, int count, int tokens, const float *scales,
                           const int8_t *values, const int32_t *sums, float *y, size_t ldy) {
    int vnni = coppice_quantized_dot_uses_vnni();
    for (int r = 0; r < count; r++) {
        const uint8_t *row = rows + r * stride;
        int i = 0;
        for (; i + 4 <= tokens; i += 4) {
            const size_t at = (size_t)i * blocks;
            (vnni ? q4_1_tokens_vnni_4 : q4_1_tokens_avx2_4)(blocks, row, scales + at, values + 32 * at, sums + at, y + i * ldy + r, ldy);
        }
        for (; i < tokens; i++) {
            const size_t at = (size_t)i * blocks;
            (vnni ? q4_1_vnni_1 : q4_1_avx2_1)(blocks, row, scales + at, values + 32 * at, sums + at, y + i * ldy + r);
        }
    }
}

ROW_KERNEL(q4_avx2, 18, q4_products_avx2, 8, AVX2)
ROW_KERNEL(q4_vnni, 18, q4_products_vnni, 8, VNNI)
ROW_KERNEL(q8_avx2, 34, q8_products_avx2, 0, AVX2)
ROW_KERNEL(q8_vnni, 34, q8_products_vnni, 128, VNNI)

AVX2 static void q4_pairs_avx2_4(int blocks, const uint8_t *rows, size_t stride, const float *scales,
                                 const int8_t *values, const int32_t *sums, float *y) {
    Q4_ROWS_LOOP(q4_pair_avx2)
}

VNNI static void q4_pairs_vnni_4(int blocks, const uint8_t *rows, size_t stride, const float *scales,
                                 const int8_t *values, const int32_t *sums, float *y) {
    Q4_ROWS_LOOP(q4_pair_vnni)
}

void coppice_quantized_dot_prefer_avx2(int prefer) { prefer_avx2 = prefer; }

int coppice_quantized_dot_uses_vnni(void) { return has_vnni(); }

void coppice_dot_rows(int kind, int blocks, const uint8_t *rows, size_t stride, int count, const float *scales,
                      const int8_t *values, const int32_t *sums, float *y) {
    int r = 0, q4 = kind == 1;
    if (kind == 2) {
        int vnni = coppice_quantized_dot_uses_vnni();
        for (; r + 4 <= count; r += 4) (vnni ? q4_1_rows_vnni_4 : q4_1_rows_avx2_4)(blocks, rows + r * stride, stride, scales, values, sums, y + r);
        for (; r < count; r++) (vnni ? q4_1_vnni_1 : q4_1_avx2_1)(blocks, rows + r * stride, scales, values, sums, y + r);
    } else if (coppice_quantized_dot_uses_vnni()) {
        for (; q4 && r + 4 <= count; r += 4) q4_pairs_vnni_4(blocks, rows + r * stride, stride, scales, values, sums, y + r);
        for (; r < count; r++) (q4 ? q4_vnni_1 : q8_vnni_1)(blocks, rows + r * stride, scales, values, sums, y + r);
    } else {
        for (; q4 && r + 4 <= count; r += 4) q4_pairs_avx2_4(blocks, rows + r * stride, stride, scales, values, sums, y + r);
        for (; r < count; r++) (q4 ? q4_avx2_1 : q8_avx2_1)(blocks, rows + r * stride, scales, values, sums, y + r);
    }
}

#else

/* Elsewhere the same sums in plain C (correct, not fast: callers keep their F32 path there). */
int coppice_quantized_dot_available(void) { return 0; }

void coppice_quantized_dot_prefer_avx2(int prefer) { (void)prefer; }

int coppice_quantized_dot_uses_vnni(void) { return 0; }

int coppice_rows_level(void) { return COPPICE_ISA_GENERIC; }

static float block_scale(const uint8_t *block) {
    _Float16 half;
    memcpy(&half, block, 2);
    return (float)half;
}

void coppice_q4_1_multiply(int blocks, const uint8_t *rows, size_t stride, int count, int tokens, const float *scales,
                           const int8_t *values, const int32_t *sums, float *y, size_t ldy) {
    for (int i = 0; i < tokens; i++) {
        const size_t at = (size_t)i * blocks;
        coppice_dot_rows(2, blocks, rows, stride, count, scales + at, values + 32 * at, sums + at, y + i * ldy);
    }
}

void coppice_dot_rows(int kind, int blocks, const uint8_t *rows, size_t stride, int count, const float *scales,
                      const int8_t *values, const int32_t *sums, float *y) {
    const int bytes = kind == 0 ? 34 : kind == 1 ? 18 : 20, start = kind == 2 ? 4 : 2, offset = kind == 1 ? 8 : 0;
    for (int r = 0; r < count; r++) {
        const uint8_t *row = rows + r * stride;
        float sum = 0;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *block = row + bytes * b;
            const int8_t *x = values + 32 * b;
            int32_t s = 0;
            for (int j = 0; j < 16 && kind; j++)
                s += ((block[start + j] & 0x0F) - offset) * x[j] + ((block[start + j] >> 4) - offset) * x[j + 16];
            for (int j = 0; j < 32 && !kind; j++) s += (int8_t)block[2 + j] * x[j];
            sum += block_scale(block) * scales[b] * (float)s;
            if (kind == 2) sum += block_scale(block + 2) * scales[b] * (float)sums[b];
        }
        y[r] = sum;
    }
}

#endif
