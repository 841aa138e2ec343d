#include "CQuantizedDot.h"
#include "FloatFormats.h"

/* F32, F16 and BF16 rows times an F32 vector, as in decode. Swift's loops (16 lanes, one accumulator)
   waited on their multiply-add chain: a 1B model's F16 weights streamed at 25 GB/s on two cores. Four
   chains of 8 lanes over 32 columns a step keep the loads, widenings and multiply-adds in flight (as
   llama.cpp's ggml_vec_dot_f16 does), so the rows stream at what memory gives. Also whole rows widened
   to F32 for prefill's BLAS panels: Swift vectorized that loop where it was inlined but not in the
   copy the pool's workers ran, which left the calling thread waiting on them.

   Wide matrices (x of 16 KB or more in F32) are stored with eight rows interleaved by eight columns
   (`coppice_float_interleave`). One row at a time, an x of 8,192 F32 (a 1B model's FFN down
   projection) fills the 32 KB L1 and the streaming rows evict it, so x came from L2 as often as the
   weights from memory. benchmarks/row_stream.c, F16 rows of 8,192 on two threads: one row at a time
   10-19 GB/s against a plain read's 32-34; four rows side by side (four streams, x loaded once for
   them) 26-30; interleaved groups, one sequential stream that loads each x vector once for eight
   rows, 28-31. At 2,048 columns one row at a time is as fast as either. */

void coppice_float_interleave(int format, int rows, int columns, const uint8_t *source, uint8_t *target) {
    size_t size = element_size(format), piece = 8 * size;
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = source + (size_t)r * columns * size;
        uint8_t *lane = target + (size_t)(r / 8) * 8 * columns * size + (size_t)(r % 8) * piece;
        for (int c = 0; c < columns / 8; c++) __builtin_memcpy(lane + (size_t)c * 8 * piece, row + (size_t)c * piece, piece);
    }
}

/* The first value of row `lane`'s piece `c` in an interleaved group. */
static const uint8_t *interleaved_piece(int format, const uint8_t *group, int lane, int c) {
    size_t size = element_size(format);
    return group + ((size_t)c * 64 + (size_t)lane * 8) * size;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c"))) static inline

TARGET __m256 load_f32(const void *w, int j) { return _mm256_loadu_ps((const float *)w + j); }
TARGET __m256 load_f16(const void *w, int j) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j))); }
TARGET __m256 load_bf16(const void *w, int j) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

TARGET float horizontal_sum(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* One kernel per format, the widening load inlined; the tail (columns % 8) scalar. */
#define ROW_DOT(name, load, format)                                                                      \
    TARGET float name(const void *w, const float *x, int columns) {                                      \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                      \
        int j = 0;                                                                                       \
        for (; j + 32 <= columns; j += 32) {                                                             \
            a0 = _mm256_fmadd_ps(load(w, j), _mm256_loadu_ps(x + j), a0);                                \
            a1 = _mm256_fmadd_ps(load(w, j + 8), _mm256_loadu_ps(x + j + 8), a1);                        \
            a2 = _mm256_fmadd_ps(load(w, j + 16), _mm256_loadu_ps(x + j + 16), a2);                      \
            a3 = _mm256_fmadd_ps(load(w, j + 24), _mm256_loadu_ps(x + j + 24), a3);                      \
        }                                                                                                \
        for (; j + 8 <= columns; j += 8) a0 = _mm256_fmadd_ps(load(w, j), _mm256_loadu_ps(x + j), a0);   \
        float sum = horizontal_sum(a0, a1, a2, a3);                                                      \
        for (; j < columns; j++) sum += widen(format, w, j) * x[j];                                        \
        return sum;                                                                                      \
    }

ROW_DOT(row_dot_f32, load_f32, 0)
ROW_DOT(row_dot_f16, load_f16, 1)
ROW_DOT(row_dot_bf16, load_bf16, 2)

/* One interleaved group: eight rows, one chain each, x loaded once per eight columns. */
#define GROUP_DOT(name, load, size)                                                                      \
    TARGET void name(const uint8_t *group, int columns, const float *x, float *y) {                     \
        __m256 a[8];                                                                                     \
        for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();                                          \
        for (int j = 0; j < columns; j += 8, group += 64 * size) {                                       \
            __m256 xj = _mm256_loadu_ps(x + j);                                                          \
            for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(load(group, 8 * r), xj, a[r]);           \
        }                                                                                                \
        __m256 zero = _mm256_setzero_ps();                                                               \
        for (int r = 0; r < 8; r++) y[r] = horizontal_sum(a[r], zero, zero, zero);                       \
    }

GROUP_DOT(group_dot_f32, load_f32, 4)
GROUP_DOT(group_dot_f16, load_f16, 2)
GROUP_DOT(group_dot_bf16, load_bf16, 2)

/* AVX-512: sixteen lanes a load, half the instructions per byte of weights. On an Intel Xeon (family
   6 model 207) the AVX2 loops above left a 1B model's BF16 decode at 0.84 of llama.cpp's speed and
   57M F32 at 0.85 (benchmarks/llamacpp_bench.py). */
#define TARGET512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))) static inline

TARGET512 __m512 load16_f32(const void *w, int j) { return _mm512_loadu_ps((const float *)w + j); }
TARGET512 __m512 load16_f16(const void *w, int j) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + j))); }
TARGET512 __m512 load16_bf16(const void *w, int j) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + j)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

/* Both AVX-512 loops prefetch the rows 2 KB ahead, every cache line, on Intel CPUs: the hardware
   prefetcher alone left a 1B model's F16 decode at 19.3 GB/s on two cores of an Intel Xeon (family 6
   model 207), 24.4 with it (7.8 -> 9.9 tokens/s). On an AMD EPYC Zen 4 the same prefetches slowed it:
   8.0-9.9 tokens/s with them, 11.0-12.3 without (five alternating `bench llm -p 1 -n 64` pairs), so
   AMD CPUs leave the rows to the hardware prefetcher, as llama.cpp does everywhere. */
int coppice_rows_prefetch(void) {
    static int prefetch = -1;
    if (prefetch < 0) {
        __builtin_cpu_init();
        prefetch = !__builtin_cpu_is("amd");
    }
    return prefetch;
}

#define ROW_DOT512(name, load, format)                                                                   \
    TARGET512 float name(const void *w, const float *x, int columns) {                                   \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                      \
        int j = 0, prefetch = coppice_rows_prefetch();                                                   \
        for (; j + 64 <= columns; j += 64) {                                                             \
            for (int line = 0; prefetch && line < (format == 0 ? 4 : 2); line++)                         \
                _mm_prefetch((const char *)w + (size_t)j * (format == 0 ? 4 : 2) + 2048 + 64 * line, _MM_HINT_T0); \
            a0 = _mm512_fmadd_ps(load(w, j), _mm512_loadu_ps(x + j), a0);                                \
            a1 = _mm512_fmadd_ps(load(w, j + 16), _mm512_loadu_ps(x + j + 16), a1);                      \
            a2 = _mm512_fmadd_ps(load(w, j + 32), _mm512_loadu_ps(x + j + 32), a2);                      \
            a3 = _mm512_fmadd_ps(load(w, j + 48), _mm512_loadu_ps(x + j + 48), a3);                      \
        }                                                                                                \
        for (; j + 16 <= columns; j += 16) a0 = _mm512_fmadd_ps(load(w, j), _mm512_loadu_ps(x + j), a0); \
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));   \
        for (; j < columns; j++) sum += widen(format, w, j) * x[j];                                        \
        return sum;                                                                                      \
    }

ROW_DOT512(row_dot512_f32, load16_f32, 0)
ROW_DOT512(row_dot512_f16, load16_f16, 1)
ROW_DOT512(row_dot512_bf16, load16_bf16, 2)

/* One interleaved group: a load holds two rows' pieces of eight columns, against x's eight columns in
   both halves; two pieces of columns a step, so eight chains are in flight. */
#define GROUP_DOT512(name, load, size)                                                                   \
    TARGET512 void name(const uint8_t *group, int columns, const float *x, float *y) {                  \
        __m512 a[8];                                                                                     \
        for (int r = 0; r < 8; r++) a[r] = _mm512_setzero_ps();                                          \
        int j = 0, prefetch = coppice_rows_prefetch();                                                   \
        for (; j + 16 <= columns; j += 16, group += 128 * size) {                                        \
            for (int line = 0; prefetch && line < 2 * size; line++) _mm_prefetch((const char *)group + 2048 + 64 * line, _MM_HINT_T0); \
            __m512 x0 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + j));                                  \
            __m512 x1 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + j + 8));                              \
            for (int r = 0; r < 4; r++) {                                                                \
                a[r] = _mm512_fmadd_ps(load(group, 16 * r), x0, a[r]);                                   \
                a[r + 4] = _mm512_fmadd_ps(load(group + 64 * size, 16 * r), x1, a[r + 4]);               \
            }                                                                                            \
        }                                                                                                \
        if (j < columns) {                                                                               \
            __m512 x0 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + j));                                  \
            for (int r = 0; r < 4; r++) a[r] = _mm512_fmadd_ps(load(group, 16 * r), x0, a[r]);           \
        }                                                                                                \
        for (int r = 0; r < 4; r++) {                                                                    \
            __m512 s = _mm512_add_ps(a[r], a[r + 4]);                                                    \
            __m256 lo = _mm512_castps512_ps256(s);                                                       \
            __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));                \
            __m256 zero = _mm256_setzero_ps();                                                           \
            y[2 * r] = horizontal_sum(lo, zero, zero, zero);                                             \
            y[2 * r + 1] = horizontal_sum(hi, zero, zero, zero);                                         \
        }                                                                                                \
    }

GROUP_DOT512(group_dot512_f32, load16_f32, 4)
GROUP_DOT512(group_dot512_f16, load16_f16, 2)
GROUP_DOT512(group_dot512_bf16, load16_bf16, 2)

/* The AVX-512 rows where the CPU has them, unless the AVX2 ones are asked for (COPPICE_ISA, tests). */
static int wide_rows(void) { return coppice_rows_level() >= COPPICE_ISA_AVX512; }

void coppice_float_dot_groups(int format, const void *groups, int count, int columns, const float *x, float *y) {
    if (format == 2 && coppice_bf16_rows_available()) return coppice_bf16_dot_groups(groups, count, columns, x, y);
    const uint8_t *group = groups;
    int wide = wide_rows();
    for (int g = 0; g < count; g++, group += 8 * (size_t)columns * element_size(format), y += 8) {
        if (wide) {
            switch (format) {
            case 0: group_dot512_f32(group, columns, x, y); break;
            case 1: group_dot512_f16(group, columns, x, y); break;
            default: group_dot512_bf16(group, columns, x, y); break;
            }
            continue;
        }
        switch (format) {
        case 0: group_dot_f32(group, columns, x, y); break;
        case 1: group_dot_f16(group, columns, x, y); break;
        default: group_dot_bf16(group, columns, x, y); break;
        }
    }
}

TARGET void widen_interleaved(int format, const uint8_t *groups, int first, int count, int columns, float *target) {
    for (int r = first; r < first + count; r++, target += columns) {
        const uint8_t *group = groups + (size_t)(r / 8) * 8 * columns * element_size(format);
        for (int c = 0; c < columns / 8; c++) {
            const uint8_t *piece = interleaved_piece(format, group, r % 8, c);
            _mm256_storeu_ps(target + 8 * c, format == 0 ? load_f32(piece, 0) : format == 1 ? load_f16(piece, 0) : load_bf16(piece, 0));
        }
    }
}

void coppice_float_widen_interleaved(int format, const void *groups, int first, int count, int columns, float *target) {
    widen_interleaved(format, groups, first, count, columns, target);
}

void coppice_float_dot_rows(int format, const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    if (format == 2 && coppice_bf16_rows_available()) return coppice_bf16_dot_rows(rows, stride, count, columns, x, y);
    const uint8_t *row = rows;
    int wide = wide_rows();
    for (int r = 0; r < count; r++, row += stride) {
        if (wide) {
            y[r] = format == 0 ? row_dot512_f32(row, x, columns) : format == 1 ? row_dot512_f16(row, x, columns) : row_dot512_bf16(row, x, columns);
            continue;
        }
        switch (format) {
        case 0: y[r] = row_dot_f32(row, x, columns); break;
        case 1: y[r] = row_dot_f16(row, x, columns); break;
        default: y[r] = row_dot_bf16(row, x, columns); break;
        }
    }
}

TARGET void widen_f16(const uint16_t *source, size_t count, float *target) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(target + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(source + i))));
    for (; i < count; i++) target[i] = widen(1, source, i);
}

TARGET void widen_bf16(const uint16_t *source, size_t count, float *target) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(source + i)));
        _mm256_storeu_ps(target + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
    }
    for (; i < count; i++) target[i] = widen(2, source, i);
}

void coppice_float_widen(int format, const void *source, size_t count, float *target) {
    if (!coppice_quantized_dot_available()) {
        for (size_t i = 0; i < count; i++) target[i] = widen(format, source, i);
        return;
    }
    switch (format) {
    case 0: __builtin_memcpy(target, source, count * sizeof(float)); break;
    case 1: widen_f16(source, count, target); break;
    default: widen_bf16(source, count, target); break;
    }
}

#else

/* The interleaved layout's plain definitions: Swift interleaves only where the vector kernels run, so
   these serve the linker off x86 (and state what the kernels above compute). */
void coppice_float_dot_groups(int format, const void *groups, int count, int columns, const float *x, float *y) {
    const uint8_t *group = groups;
    for (int g = 0; g < count; g++, group += 8 * (size_t)columns * element_size(format)) {
        for (int lane = 0; lane < 8; lane++) {
            float sum = 0;
            for (int c = 0; c < columns / 8; c++) {
                const uint8_t *piece = interleaved_piece(format, group, lane, c);
                for (int k = 0; k < 8; k++) sum += widen(format, piece, k) * x[8 * c + k];
            }
            y[8 * g + lane] = sum;
        }
    }
}

void coppice_float_widen_interleaved(int format, const void *groups, int first, int count, int columns, float *target) {
    for (int r = first; r < first + count; r++, target += columns) {
        const uint8_t *group = (const uint8_t *)groups + (size_t)(r / 8) * 8 * columns * element_size(format);
        for (int c = 0; c < columns / 8; c++)
            for (int k = 0; k < 8; k++) target[8 * c + k] = widen(format, interleaved_piece(format, group, r % 8, c), k);
    }
}

void coppice_float_widen(int format, const void *source, size_t count, float *target) {
    for (size_t i = 0; i < count; i++) target[i] = widen(format, source, i);
}

void coppice_float_dot_rows(int format, const void *rows, size_t stride, int count, int columns, const float *x, float *y) {
    const uint8_t *row = rows;
    for (int r = 0; r < count; r++, row += stride) {
        float sum = 0;
        for (int j = 0; j < columns; j++) sum += widen(format, row, j) * x[j];
        y[r] = sum;
    }
}

#endif
