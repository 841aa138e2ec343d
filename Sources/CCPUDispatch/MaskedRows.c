// Pruned weight rows stored as a bitmask and their kept values packed in column order
// (CoppiceKernels/MaskedWeights.swift), times an F32 vector (a pruned Llama's decode) or widened back
// to dense rows (its prefill). Decode is memory-bound, so a row that moves fewer bytes is faster: at
// half the weights zero an F16 row moves 2 bytes of values and 1/8 byte of mask per two columns, 56%
// of its dense bytes.
//
// The vector kernels load a whole vector of packed values, put them in their columns' lanes with the
// mask (AVX-512: `vexpandps`; AVX2: a permutation looked up by the mask byte, absent lanes cleared)
// and multiply all lanes, zeros included: the arithmetic is the dense row's, the bytes are not. They
// read up to 64 bytes past a row's values, which the storage pads.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "Level.h"

enum { F32 = 0, F16 = 1, BF16 = 2, Q8 = 3 };

static float half_to_float(uint16_t bits) {
    _Float16 h;
    memcpy(&h, &bits, 2);
    return (float)h;
}

/* The k-th packed value, before a Q8 block's scale. */
static float packed_value(int format, const uint8_t *values, long k) {
    switch (format) {
    case F32: { float f; memcpy(&f, values + 4 * k, 4); return f; }
    case F16: { uint16_t h; memcpy(&h, values + 2 * k, 2); return half_to_float(h); }
    case BF16: {
        uint16_t h;
        memcpy(&h, values + 2 * k, 2);
        uint32_t wide = (uint32_t)h << 16;
        float f;
        memcpy(&f, &wide, 4);
        return f;
    }
    default: return (float)(int8_t)values[k];
    }
}

static int value_size(int format) { return format == F32 ? 4 : format == Q8 ? 1 : 2; }

static void expand_generic(int format, const uint8_t *mask, const uint8_t *values, const uint16_t *scales, int columns, float *out) {
    long k = 0;
    for (int j = 0; j < columns; j++) {
        float scale = format == Q8 ? half_to_float(scales[j / 32]) : 1;
        out[j] = (mask[j >> 3] >> (j & 7)) & 1 ? scale * packed_value(format, values, k++) : 0;
    }
}

static float row_generic(int format, const uint8_t *mask, const uint8_t *values, const uint16_t *scales, int columns, const float *x) {
    float sum = 0;
    long k = 0;
    for (int b = 0; b < columns / 32; b++) {
        float block = 0;
        for (int j = 32 * b; j < 32 * b + 32; j++)
            if ((mask[j >> 3] >> (j & 7)) & 1) block += packed_value(format, values, k++) * x[j];
        sum += format == Q8 ? block * half_to_float(scales[b]) : block;
    }
    return sum;
}

/* Bytes ahead of the packed values the kernels prefetch. A row's values stream from memory, and the
   hardware prefetcher alone left them at 7 GB/s a core where dense rows get 9-10 (Intel Xeon 6/207,
   F16 rows of 8192 at 50%); 2 KB ahead, 10-11. */
enum { PREFETCH = 2048 };

static uint32_t mask_word(const uint8_t *mask, int j) {
    uint32_t m;
    memcpy(&m, mask + j / 8, 4);
    return m;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx2,fma,f16c,popcnt,avx512f,avx512bw,avx512vl,avx512dq"))) static inline

T512 __m512 load16_f32(const uint8_t *v) { return _mm512_loadu_ps(v); }
T512 __m512 load16_f16(const uint8_t *v) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)v)); }
T512 __m512 load16_bf16(const uint8_t *v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)v)), 16));
}
T512 __m512 load16_q8(const uint8_t *v) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)v))); }

/* 32 columns a step, two chains; a Q8 block's two halves summed, then scaled into the chain. */
#define ROW512(name, load, size, scaled)                                                                                   \
    T512 float name(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, const float *x) {          \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;                                                                          \
        for (int j = 0; j < columns; j += 32) {                                                                            \
            _mm_prefetch((const char *)v + PREFETCH, _MM_HINT_T0);                                                         \
            uint32_t m = mask_word(mask, j);                                                                               \
            __mmask16 lo = (__mmask16)m, hi = (__mmask16)(m >> 16);                                                        \
            __m512 w0 = _mm512_maskz_expand_ps(lo, load(v)), w1 = _mm512_maskz_expand_ps(hi, load(v + size * _mm_popcnt_u32(lo))); \
            v += size * _mm_popcnt_u32(m);                                                                                 \
            if (scaled) {                                                                                                  \
                __m512 t = _mm512_mul_ps(w0, _mm512_loadu_ps(x + j));                                                      \
                t = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + j + 16), t);                                                   \
                __m512 d = _mm512_set1_ps(_cvtsh_ss(scales[j / 32]));                                                      \
                if ((j / 32) & 1) a1 = _mm512_fmadd_ps(t, d, a1); else a0 = _mm512_fmadd_ps(t, d, a0);                      \
            } else {                                                                                                       \
                a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + j), a0);                                                      \
                a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + j + 16), a1);                                                 \
            }                                                                                                              \
        }                                                                                                                  \
        return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));                                                                \
    }

/* F16 / BF16 where the CPU has AVX512-VBMI2: one `vpexpandw` puts 32 packed values in their lanes. */
#define T512V __attribute__((target("avx2,fma,f16c,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi2"))) static inline

T512V __m512 widen16_f16(__m256i h) { return _mm512_cvtph_ps(h); }
T512V __m512 widen16_bf16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

#define ROW512_WORDS(name, widen)                                                                                          \
    T512V float name(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, const float *x) {         \
        (void)scales;                                                                                                      \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;                                                                          \
        for (int j = 0; j < columns; j += 32) {                                                                            \
            _mm_prefetch((const char *)v + PREFETCH, _MM_HINT_T0);                                                         \
            uint32_t m = mask_word(mask, j);                                                                               \
            __m512i h = _mm512_maskz_expand_epi16(m, _mm512_loadu_si512(v));                                               \
            v += 2 * _mm_popcnt_u32(m);                                                                                    \
            a0 = _mm512_fmadd_ps(widen(_mm512_castsi512_si256(h)), _mm512_loadu_ps(x + j), a0);                            \
            a1 = _mm512_fmadd_ps(widen(_mm512_extracti64x4_epi64(h, 1)), _mm512_loadu_ps(x + j + 16), a1);                \
        }                                                                                                                  \
        return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));                                                                \
    }

ROW512_WORDS(row512v_f16, widen16_f16)
ROW512_WORDS(row512v_bf16, widen16_bf16)

/* Q8_0 where the CPU has VBMI2 and VNNI, against x quantized to int8 blocks as the dense Q8_0 rows
   take it (llama.cpp's numerics): one `vpexpandb` puts 64 packed weights in their lanes, `vpdpbusd`
   multiplies them (+128, unsigned) by x's int8 values four at a time. Lane l of the int32 sums holds
   columns 4l..4l+3 of a 64-column step, so each lane's block scale and correction (x's block sum times
   128, spread over the block's 8 lanes) come from per-lane tables built once per call. */
#define T512Q __attribute__((target("avx2,fma,f16c,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi2,avx512vnni"))) static inline

T512Q float row512_q8_integer(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, const int8_t *xq,
                              const float *laneScale, const float *laneCorrection) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    const __m512i flip = _mm512_set1_epi8((char)0x80), pairs = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    int j = 0;
    for (; j + 64 <= columns; j += 64) {
        _mm_prefetch((const char *)v + PREFETCH, _MM_HINT_T0);
        uint64_t m;
        memcpy(&m, mask + j / 8, 8);
        __m512i w = _mm512_xor_si512(_mm512_maskz_expand_epi8(m, _mm512_loadu_si512(v)), flip);
        v += _mm_popcnt_u64(m);
        __m512 dots = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512(xq + j)));
        uint32_t both;
        memcpy(&both, scales + j / 32, 4);
        __m512 dw = _mm512_permutexvar_ps(pairs, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)both))));
        __m512 t = _mm512_fmsub_ps(dots, _mm512_loadu_ps(laneScale + j / 4), _mm512_loadu_ps(laneCorrection + j / 4));
        if ((j / 64) & 1) a1 = _mm512_fmadd_ps(t, dw, a1); else a0 = _mm512_fmadd_ps(t, dw, a0);
    }
    if (j < columns) {  // a last block of 32: the low half of a step
        uint32_t m = mask_word(mask, j);
        __m256i w = _mm256_xor_si256(_mm256_maskz_expand_epi8(m, _mm256_loadu_si256((const __m256i *)v)), _mm256_set1_epi8((char)0x80));
        __m256 dots = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), w, _mm256_loadu_si256((const __m256i *)(xq + j))));
        __m256 t = _mm256_fmsub_ps(dots, _mm256_loadu_ps(laneScale + j / 4), _mm256_loadu_ps(laneCorrection + j / 4));
        a0 = _mm512_add_ps(a0, _mm512_castps256_ps512(_mm256_mul_ps(t, _mm256_set1_ps(_cvtsh_ss(scales[j / 32])))));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

ROW512(row512_f32, load16_f32, 4, 0)
ROW512(row512_f16, load16_f16, 2, 0)
ROW512(row512_bf16, load16_bf16, 2, 0)
ROW512(row512_q8, load16_q8, 1, 1)

#define EXPAND512(name, load, size, scaled)                                                                    \
    T512 void name(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, float *out) {  \
        for (int j = 0; j < columns; j += 16) {                                                                \
            uint16_t m;                                                                                        \
            memcpy(&m, mask + j / 8, 2);                                                                       \
            __m512 w = _mm512_maskz_expand_ps(m, load(v));                                                     \
            if (scaled) w = _mm512_mul_ps(w, _mm512_set1_ps(_cvtsh_ss(scales[j / 32])));                      \
            _mm512_storeu_ps(out + j, w);                                                                      \
            v += size * _mm_popcnt_u32(m);                                                                     \
        }                                                                                                      \
    }

EXPAND512(expand512_f32, load16_f32, 4, 0)
EXPAND512(expand512_f16, load16_f16, 2, 0)
EXPAND512(expand512_bf16, load16_bf16, 2, 0)
EXPAND512(expand512_q8, load16_q8, 1, 1)

/* AVX2 has no expand: entry m holds, for each lane set in the mask byte m, the index of its packed
   value, and for each clear lane the sign bit (the lane is cleared after the permutation). */
static int32_t expand_table[256][8] __attribute__((aligned(32)));
static pthread_once_t expand_table_once = PTHREAD_ONCE_INIT;

static void fill_expand_table(void) {
    for (int m = 0; m < 256; m++) {
        int k = 0;
        for (int lane = 0; lane < 8; lane++) expand_table[m][lane] = (m >> lane) & 1 ? k++ : (int32_t)0x80000000;
    }
}

#define T256 __attribute__((target("avx2,fma,f16c,popcnt"))) static inline

T256 __m256 load8_f32(const uint8_t *v) { return _mm256_loadu_ps((const float *)v); }
T256 __m256 load8_f16(const uint8_t *v) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)v)); }
T256 __m256 load8_bf16(const uint8_t *v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)v)), 16));
}
T256 __m256 load8_q8(const uint8_t *v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)v))); }

T256 __m256 expand8(__m256 w, unsigned m) {
    __m256i index = _mm256_load_si256((const __m256i *)expand_table[m]);
    return _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_srai_epi32(index, 31)), _mm256_permutevar8x32_ps(w, index));
}

T256 float sum8(__m256 s) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* 32 columns a step: four mask bytes, four chains (scaled per Q8 block into one). */
#define ROW256(name, load, size, scaled)                                                                  \
    T256 float name(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, const float *x) { \
        __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        __m256 total = _mm256_setzero_ps();                                                               \
        for (int j = 0; j < columns; j += 32) {                                                           \
            _mm_prefetch((const char *)v + PREFETCH, _MM_HINT_T0);                                        \
            for (int q = 0; q < 4; q++) {                                                                 \
                unsigned m = mask[j / 8 + q];                                                             \
                __m256 w = expand8(load(v), m);                                                           \
                v += size * _mm_popcnt_u32(m);                                                            \
                a[q] = scaled ? _mm256_mul_ps(w, _mm256_loadu_ps(x + j + 8 * q))                          \
                              : _mm256_fmadd_ps(w, _mm256_loadu_ps(x + j + 8 * q), a[q]);                 \
            }                                                                                             \
            if (scaled) {                                                                                 \
                __m256 t = _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]));           \
                total = _mm256_fmadd_ps(t, _mm256_set1_ps(_cvtsh_ss(scales[j / 32])), total);             \
            }                                                                                             \
        }                                                                                                 \
        return scaled ? sum8(total) : sum8(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]))); \
    }

ROW256(row256_f32, load8_f32, 4, 0)
ROW256(row256_f16, load8_f16, 2, 0)
ROW256(row256_bf16, load8_bf16, 2, 0)
ROW256(row256_q8, load8_q8, 1, 1)

#define EXPAND256(name, load, size, scaled)                                                                   \
    T256 void name(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, float *out) { \
        for (int j = 0; j < columns; j += 8) {                                                                \
            unsigned m = mask[j / 8];                                                                         \
            __m256 w = expand8(load(v), m);                                                                   \
            if (scaled) w = _mm256_mul_ps(w, _mm256_set1_ps(_cvtsh_ss(scales[j / 32])));                     \
            _mm256_storeu_ps(out + j, w);                                                                     \
            v += size * _mm_popcnt_u32(m);                                                                    \
        }                                                                                                     \
    }

EXPAND256(expand256_f32, load8_f32, 4, 0)
EXPAND256(expand256_f16, load8_f16, 2, 0)
EXPAND256(expand256_bf16, load8_bf16, 2, 0)
EXPAND256(expand256_q8, load8_q8, 1, 1)

typedef float (*row_kernel)(const uint8_t *, const uint8_t *, const uint16_t *, int, const float *);
typedef void (*expand_kernel)(const uint8_t *, const uint8_t *, const uint16_t *, int, float *);
static const row_kernel rows512[4] = {row512_f32, row512_f16, row512_bf16, row512_q8};
static const row_kernel rows512v[4] = {row512_f32, row512v_f16, row512v_bf16, row512_q8};
static const row_kernel rows256[4] = {row256_f32, row256_f16, row256_bf16, row256_q8};
static const expand_kernel expands512[4] = {expand512_f32, expand512_f16, expand512_bf16, expand512_q8};
static const expand_kernel expands256[4] = {expand256_f32, expand256_f16, expand256_bf16, expand256_q8};
#endif

void coppice_masked_rows_level(int level, int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets,
                               const uint16_t *scales, long firstRow, long endRow, int columns, const float *x, float *y) {
    level = coppice_level_supported(level);
    long maskBytes = columns / 8, blocks = columns / 32;
#if defined(__x86_64__)
    int vbmi2 = coppice_cpu_has_vbmi2();
#endif
    for (long r = firstRow; r < endRow; r++) {
        const uint8_t *mask = masks + r * maskBytes, *v = values + offsets[r];
        const uint16_t *s = scales ? scales + r * blocks : NULL;
#if defined(__x86_64__)
        if (level >= COPPICE_ISA_AVX512_VNNI && vbmi2) { y[r] = rows512v[format](mask, v, s, columns, x); continue; }
        if (level >= COPPICE_ISA_AVX512) { y[r] = rows512[format](mask, v, s, columns, x); continue; }
        if (level >= COPPICE_ISA_AVX2) {
            pthread_once(&expand_table_once, fill_expand_table);
            y[r] = rows256[format](mask, v, s, columns, x);
            continue;
        }
#endif
        y[r] = row_generic(format, mask, v, s, columns, x);
    }
}

void coppice_masked_rows(int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                         long firstRow, long endRow, int columns, const float *x, float *y) {
    coppice_masked_rows_level(coppice_isa(), format, masks, values, offsets, scales, firstRow, endRow, columns, x, y);
}

#if defined(__x86_64__)
T512Q void q8_blocks_vbmi2(const uint8_t *mask, const uint8_t *v, const uint16_t *scales, int columns, uint8_t *out) {
    for (int j = 0; j < columns; j += 32, out += 34) {
        uint32_t m = mask_word(mask, j);
        memcpy(out, scales + j / 32, 2);
        _mm256_storeu_si256((__m256i *)(out + 2), _mm256_maskz_expand_epi8(m, _mm256_loadu_si256((const __m256i *)v)));
        v += _mm_popcnt_u32(m);
    }
}
#endif

void coppice_masked_q8_blocks(const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                              long firstRow, long endRow, int columns, uint8_t *out) {
    long maskBytes = columns / 8, blocks = columns / 32;
    for (long r = firstRow; r < endRow; r++, out += blocks * 34) {
        const uint8_t *mask = masks + r * maskBytes, *v = values + offsets[r];
#if defined(__x86_64__)
        if (coppice_masked_q8_integer(coppice_isa())) {
            q8_blocks_vbmi2(mask, v, scales + r * blocks, columns, out);
            continue;
        }
#endif
        for (int j = 0; j < columns; j++) {
            if (j % 32 == 0) memcpy(out + 34 * (j / 32), scales + r * blocks + j / 32, 2);
            out[34 * (j / 32) + 2 + j % 32] = (mask[j >> 3] >> (j & 7)) & 1 ? *v++ : 0;
        }
    }
}

/* Whether value k of a stored row is nonzero (±0 count as zero); Q8_0 rows are blocks of an F16 scale
   and 32 int8 values. */
static int stored_nonzero(int format, const uint8_t *row, long k) {
    switch (format) {
    case F32: { uint32_t bits; memcpy(&bits, row + 4 * k, 4); return (bits & 0x7fffffffu) != 0; }
    case Q8: return row[34 * (k / 32) + 2 + k % 32] != 0;
    default: { uint16_t bits; memcpy(&bits, row + 2 * k, 2); return (bits & 0x7fff) != 0; }
    }
}

#if defined(__x86_64__)
/* Packing with AVX512-VBMI2 compress, 32 values (16 for F32) a step; every store writes a whole vector,
   so `values` needs 64 bytes of room past the packed ones. A 1B model's scalar packing took 10 s at load. */
T512Q uint32_t nonzero_bits(int format, const uint8_t *p) {
    switch (format) {
    case F32: {
        __m512i lo = _mm512_loadu_si512(p), hi = _mm512_loadu_si512(p + 64), magnitude = _mm512_set1_epi32(0x7fffffff);
        return (uint32_t)_mm512_test_epi32_mask(lo, magnitude) | (uint32_t)_mm512_test_epi32_mask(hi, magnitude) << 16;
    }
    case Q8: return _mm256_test_epi8_mask(_mm256_loadu_si256((const __m256i *)p), _mm256_set1_epi8(-1));
    default: return _mm512_test_epi16_mask(_mm512_loadu_si512(p), _mm512_set1_epi16(0x7fff));
    }
}

T512Q long pack_row_vbmi2(int format, const uint8_t *row, int columns, uint8_t *mask, uint8_t *values, uint16_t *scales) {
    uint8_t *start = values;
    for (int j = 0; j < columns; j += 32) {
        const uint8_t *p = format == Q8 ? row + 34 * (j / 32) + 2 : row + (size_t)value_size(format) * j;
        uint32_t m = nonzero_bits(format, p);
        memcpy(mask + j / 8, &m, 4);
        switch (format) {
        case F32:
            _mm512_storeu_ps(values, _mm512_maskz_compress_ps((__mmask16)m, _mm512_loadu_ps(p)));
            values += 4 * _mm_popcnt_u32(m & 0xffff);
            _mm512_storeu_ps(values, _mm512_maskz_compress_ps((__mmask16)(m >> 16), _mm512_loadu_ps(p + 64)));
            values += 4 * _mm_popcnt_u32(m >> 16);
            break;
        case Q8:
            memcpy(scales + j / 32, row + 34 * (j / 32), 2);
            _mm256_storeu_si256((__m256i *)values, _mm256_maskz_compress_epi8(m, _mm256_loadu_si256((const __m256i *)p)));
            values += _mm_popcnt_u32(m);
            break;
        default:
            _mm512_storeu_si512(values, _mm512_maskz_compress_epi16(m, _mm512_loadu_si512(p)));
            values += 2 * _mm_popcnt_u32(m);
        }
    }
    return values - start;
}

T512Q long count_row_vbmi2(int format, const uint8_t *row, int columns) {
    long count = 0;
    for (int j = 0; j < columns; j += 32)
        count += _mm_popcnt_u32(nonzero_bits(format, format == Q8 ? row + 34 * (j / 32) + 2 : row + (size_t)value_size(format) * j));
    return count;
}
#endif

/* The compress kernels run at the level of the integer Q8_0 kernel (AVX512-VNNI with VBMI2). */
long coppice_row_nonzeros(int level, int format, const uint8_t *row, int columns) {
#if defined(__x86_64__)
    if (coppice_masked_q8_integer(level)) return count_row_vbmi2(format, row, columns);
#endif
    long count = 0;
    for (long k = 0; k < columns; k++) count += stored_nonzero(format, row, k);
    return count;
}

long coppice_masked_pack_row(int level, int format, const uint8_t *row, int columns, uint8_t *mask, uint8_t *values, uint16_t *scales) {
#if defined(__x86_64__)
    if (coppice_masked_q8_integer(level)) return pack_row_vbmi2(format, row, columns, mask, values, scales);
#endif
    int size = value_size(format);
    long kept = 0;
    memset(mask, 0, (size_t)columns / 8);
    for (long k = 0; k < columns; k++) {
        if (format == Q8 && k % 32 == 0) memcpy(scales + k / 32, row + 34 * (k / 32), 2);
        if (!stored_nonzero(format, row, k)) continue;
        mask[k / 8] |= (uint8_t)(1u << (k % 8));
        memcpy(values + size * kept++, format == Q8 ? row + 34 * (k / 32) + 2 + k % 32 : row + size * k, (size_t)size);
    }
    return kept * size;
}

int coppice_masked_q8_integer(int level) {
#if defined(__x86_64__)
    return coppice_level_supported(level) >= COPPICE_ISA_AVX512_VNNI && coppice_cpu_has_vbmi2();
#else
    (void)level;
    return 0;
#endif
}

void coppice_masked_rows_q8_integer(const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                                    long firstRow, long endRow, int columns, const float *xScales, const int8_t *xValues,
                                    const int32_t *xSums, float *y) {
#if defined(__x86_64__)
    // Per 4-column lane: its block's x scale, and 128 · the block's x sum · scale over the block's 8 lanes.
    int lanes = columns / 4;
    float stackScale[2048], stackCorrection[2048];
    float *laneScale = lanes <= 2048 ? stackScale : malloc(sizeof(float) * (size_t)lanes);
    float *laneCorrection = lanes <= 2048 ? stackCorrection : malloc(sizeof(float) * (size_t)lanes);
    for (int l = 0; l < lanes; l++) {
        laneScale[l] = xScales[l / 8];
        laneCorrection[l] = 16.0f * (float)xSums[l / 8] * xScales[l / 8];
    }
    long maskBytes = columns / 8, blocks = columns / 32;
    for (long r = firstRow; r < endRow; r++)
        y[r] = row512_q8_integer(masks + r * maskBytes, values + offsets[r], scales + r * blocks, columns, xValues, laneScale, laneCorrection);
    if (lanes > 2048) {
        free(laneScale);
        free(laneCorrection);
    }
#else
    (void)masks, (void)values, (void)offsets, (void)scales, (void)firstRow, (void)endRow, (void)columns, (void)xScales, (void)xValues,
        (void)xSums, (void)y;
#endif
}

void coppice_masked_expand_level(int level, int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets,
                                 const uint16_t *scales, long firstRow, long endRow, int columns, float *out) {
    level = coppice_level_supported(level);
    long maskBytes = columns / 8, blocks = columns / 32;
    for (long r = firstRow; r < endRow; r++, out += columns) {
        const uint8_t *mask = masks + r * maskBytes, *v = values + offsets[r];
        const uint16_t *s = scales ? scales + r * blocks : NULL;
#if defined(__x86_64__)
        if (level >= COPPICE_ISA_AVX512) { expands512[format](mask, v, s, columns, out); continue; }
        if (level >= COPPICE_ISA_AVX2) {
            pthread_once(&expand_table_once, fill_expand_table);
            expands256[format](mask, v, s, columns, out);
            continue;
        }
#endif
        expand_generic(format, mask, v, s, columns, out);
    }
}

void coppice_masked_expand(int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                           long firstRow, long endRow, int columns, float *out) {
    coppice_masked_expand_level(coppice_isa(), format, masks, values, offsets, scales, firstRow, endRow, columns, out);
}
