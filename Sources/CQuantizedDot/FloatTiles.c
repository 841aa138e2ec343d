#include "CQuantizedDot.h"
#include "FloatFormats.h"

/* F32, F16 and BF16 rows times a few activation rows (a short prompt, a batched decode step), straight
   from the rows as stored: tiles of 4 rows × 5 tokens (8 interleaved rows × 4 tokens) whose sums stay
   in registers, each weight widened once for all of a tile's tokens, as llamafile's tinyBLAS
   multiplies F16 in llama.cpp. Before, 9 or more tokens widened every matrix to F32 for BLAS (writing
   twice the weights' bytes and reading them back), and up to 8 ran the decode rows once per token:
   on an AMD EPYC Zen 4 a 1B model's F16 prefill of 16 tokens ran at 0.31 of llama.cpp's speed.
   Past 128 tokens the panels' BLAS is faster (`WeightMatrix.fewRows`). */

/* Columns per block: every token's slice of x (F32) within 1 MB, a multiple of 32. Blocks of 128 KB,
   to keep x in L1 or L2 beside a tile's rows, ran slower on an AMD EPYC Zen 4 (1B F16, 64 tokens: 65
   tokens/s, 78 with 1 MB): each block adds a pass of sums and stores. */
static int column_block(int tokens, int columns) {
    int block = 262144 / tokens / 32 * 32;
    block = block < 256 ? 256 : block;
    return block < columns ? block : columns;
}

/* Token tiles of at most `widest`, as even as they come (16 tokens by 5: 4, 4, 4, 4); `tile` counts them. */
#define FOR_TOKEN_TILES(tokens, widest, tile, n0, rn, body)                                                \
    {                                                                                                      \
        int tiles_ = ((tokens) + (widest) - 1) / (widest), base_ = (tokens) / tiles_, extra_ = (tokens) % tiles_; \
        for (int tile = 0, n0 = 0; tile < tiles_; tile++) {                                                \
            int rn = base_ + (tile < extra_);                                                              \
            body;                                                                                          \
            n0 += rn;                                                                                      \
        }                                                                                                  \
    }

/* The next rows' bytes a tile prefetches into L2 while it runs on rows already in the caches: a
   prompt's first token tile reads its rows from memory, the later ones from the caches, so the
   second tile fetches the next rows (`ahead` bytes on) and memory and arithmetic overlap. Without it
   the first tile waited on memory and the others left it idle: 16 tokens on 128 MB of F16 rows, two
   processes on an AMD EPYC Zen 4, ran at 62-70 GFLOP/s a core, 70-77 with it (in the caches 82-85).
   Each tile takes `ahead` (0: none) as a constant of its own inlined copy (a run-time test in the loop
   slowed the tiles in the caches by a quarter). */

/* The decode rows token by token over runs of rows within 64 KB (kept in L2 for the next token), for
   CPUs and layouts without a tile kernel. */
static void per_token(int format, const uint8_t *rows, size_t stride, int interleaved, int count, int columns, const float *x,
                      int tokens, float *y, size_t ldy) {
    int unit = interleaved ? 8 : 1, run = (int)(65536 / ((size_t)columns * element_size(format))) / unit * unit;
    run = run < unit ? unit : run;
    for (int r0 = 0; r0 < count; r0 += run) {
        int n = count - r0 < run ? count - r0 : run;
        const uint8_t *first = rows + (interleaved ? (size_t)r0 * columns * element_size(format) : r0 * stride);
        for (int t = 0; t < tokens; t++) {
            const float *xt = x + (size_t)t * columns;
            if (interleaved) coppice_float_dot_groups(format, first, n / 8, columns, xt, y + t * ldy + r0);
            else coppice_float_dot_rows(format, first, stride, n, columns, xt, y + t * ldy + r0);
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define AVX512BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

static void store(float *y, float sum, int accumulate) { *y = accumulate ? *y + sum : sum; }

AVX2 INLINE float sum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* ---- AVX2: 4 rows × 3 tokens of 8 lanes (12 sums, 3 x, 1 weight: the 16 registers). */

AVX2 INLINE __m256 load8(int format, const void *w, int j) {
    if (format == 0) return _mm256_loadu_ps((const float *)w + j);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + j));
    if (format == 1) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

AVX2 INLINE void tile256(int format, int rm, int rn, const uint8_t *w, size_t stride, int k0, int k1, const float *x, size_t ldx,
                         float *y, size_t ldy, int accumulate, size_t ahead) {
    __m256 acc[4][3], xv[3];
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) acc[m][n] = _mm256_setzero_ps();
    int j = k0;
    for (; j + 8 <= k1; j += 8) {
        for (int n = 0; n < rn; n++) xv[n] = _mm256_loadu_ps(x + n * ldx + j);
        if (ahead && j % (format == 0 ? 16 : 32) == 0)
            for (int m = 0; m < 4; m++) _mm_prefetch((const char *)w + ahead + m * stride + (size_t)j * element_size(format), _MM_HINT_T1);
        for (int m = 0; m < rm; m++) {
            __m256 wv = load8(format, w + m * stride, j);
            for (int n = 0; n < rn; n++) acc[m][n] = _mm256_fmadd_ps(wv, xv[n], acc[m][n]);
        }
    }
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) {
            float sum = sum8(acc[m][n]);
            for (int c = j; c < k1; c++) sum += widen(format, w + m * stride, c) * x[n * ldx + c];
            store(y + n * ldy + m, sum, accumulate);
        }
}

AVX2 INLINE void tiles256(int format, int rn, const uint8_t *w, size_t stride, int k0, int k1, const float *x, size_t ldx, float *y,
                          size_t ldy, int accumulate, size_t ahead) {
    if (rn == 3) tile256(format, 4, 3, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead);
    else if (rn == 2) tile256(format, 4, 2, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead);
    else tile256(format, 4, 1, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead);
}

AVX2 INLINE void rows256(int format, const uint8_t *rows, size_t stride, int count, int k0, int k1, const float *x, size_t ldx,
                         int tokens, float *y, size_t ldy, int accumulate) {
    int r = 0;
    for (; r + 4 <= count; r += 4)
        FOR_TOKEN_TILES(tokens, 3, tile, n0, rn, {
            const uint8_t *w = rows + r * stride;
            const float *xn = x + n0 * ldx;
            float *yn = y + n0 * ldy + r;
            if (tile == 1 && r + 8 <= count) tiles256(format, rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 4 * stride);
            else tiles256(format, rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 0);
        })
    for (; r < count; r++)
        for (int n = 0; n < tokens; n++)
            tile256(format, 1, 1, rows + r * stride, stride, k0, k1, x + n * ldx, ldx, y + n * ldy + r, ldy, accumulate, 0);
}

/* ---- AVX-512: 4 rows × 5 tokens of 16 lanes (20 sums, 5 x, 1 weight); column tails masked. */

AVX512 INLINE __m512 load16(int format, const void *w, int j, __mmask16 mask) {
    if (format == 0) return _mm512_maskz_loadu_ps(mask, (const float *)w + j);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + j);
    if (format == 1) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AVX512 INLINE void tile512(int format, int rm, int rn, const uint8_t *w, size_t stride, int k0, int k1, const float *x, size_t ldx,
                           float *y, size_t ldy, int accumulate, size_t ahead) {
    __m512 acc[4][5], xv[5];
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) acc[m][n] = _mm512_setzero_ps();
    for (int j = k0; j < k1; j += 16) {
        __mmask16 mask = k1 - j >= 16 ? 0xFFFF : (__mmask16)((1u << (k1 - j)) - 1);
        for (int n = 0; n < rn; n++) xv[n] = _mm512_maskz_loadu_ps(mask, x + n * ldx + j);
        if (ahead && (format == 0 || j % 32 == 0))
            for (int m = 0; m < 4; m++) _mm_prefetch((const char *)w + ahead + m * stride + (size_t)j * element_size(format), _MM_HINT_T1);
        for (int m = 0; m < rm; m++) {
            __m512 wv = load16(format, w + m * stride, j, mask);
            for (int n = 0; n < rn; n++) acc[m][n] = _mm512_fmadd_ps(wv, xv[n], acc[m][n]);
        }
    }
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) store(y + n * ldy + m, _mm512_reduce_add_ps(acc[m][n]), accumulate);
}

AVX512 INLINE void tiles512(int format, int rn, const uint8_t *w, size_t stride, int k0, int k1, const float *x, size_t ldx, float *y,
                            size_t ldy, int accumulate, size_t ahead) {
    switch (rn) {
    case 5: tile512(format, 4, 5, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 4: tile512(format, 4, 4, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 3: tile512(format, 4, 3, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 2: tile512(format, 4, 2, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    default: tile512(format, 4, 1, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    }
}

AVX512 INLINE void rows512(int format, const uint8_t *rows, size_t stride, int count, int k0, int k1, const float *x, size_t ldx,
                           int tokens, float *y, size_t ldy, int accumulate) {
    int r = 0;
    for (; r + 4 <= count; r += 4)
        FOR_TOKEN_TILES(tokens, 5, tile, n0, rn, {
            const uint8_t *w = rows + r * stride;
            const float *xn = x + n0 * ldx;
            float *yn = y + n0 * ldy + r;
            if (tile == 1 && r + 8 <= count) tiles512(format, rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 4 * stride);
            else tiles512(format, rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 0);
        })
    for (; r < count; r++)
        for (int n = 0; n < tokens; n++)
            tile512(format, 1, 1, rows + r * stride, stride, k0, k1, x + n * ldx, ldx, y + n * ldy + r, ldy, accumulate, 0);
}

/* One interleaved group (8 rows × 8 columns a piece) × rn tokens over columns k0 ..< k1 (multiples of
   8): a 16-value load holds two rows' pieces, against a token's 8 columns of x in both halves. */
AVX512 INLINE void group512(int format, int rn, const uint8_t *group, int k0, int k1, const float *x, size_t ldx, float *y,
                            size_t ldy, int accumulate, size_t ahead) {
    size_t size = element_size(format);
    __m512 acc[4][4], w0[4], w1[4];
    for (int n = 0; n < rn; n++)
        for (int r = 0; r < 4; r++) acc[n][r] = _mm512_setzero_ps();
    const uint8_t *piece = group + (size_t)k0 * 8 * size;
    int j = k0;
    for (; j + 16 <= k1; j += 16, piece += 128 * size) {
        for (int line = 0; ahead && line < 2 * (int)size; line++) _mm_prefetch((const char *)piece + ahead + 64 * line, _MM_HINT_T1);
        for (int r = 0; r < 4; r++) w0[r] = load16(format, piece, 16 * r, 0xFFFF), w1[r] = load16(format, piece + 64 * size, 16 * r, 0xFFFF);
        for (int n = 0; n < rn; n++) {
            __m512 x0 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + n * ldx + j));
            __m512 x1 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + n * ldx + j + 8));
            for (int r = 0; r < 4; r++) acc[n][r] = _mm512_fmadd_ps(w1[r], x1, _mm512_fmadd_ps(w0[r], x0, acc[n][r]));
        }
    }
    if (j < k1) {
        for (int r = 0; r < 4; r++) w0[r] = load16(format, piece, 16 * r, 0xFFFF);
        for (int n = 0; n < rn; n++) {
            __m512 x0 = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + n * ldx + j));
            for (int r = 0; r < 4; r++) acc[n][r] = _mm512_fmadd_ps(w0[r], x0, acc[n][r]);
        }
    }
    for (int n = 0; n < rn; n++)
        for (int r = 0; r < 4; r++) {
            __m256 low = _mm512_castps512_ps256(acc[n][r]), high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[n][r]), 1));
            store(y + n * ldy + 2 * r, sum8(low), accumulate);
            store(y + n * ldy + 2 * r + 1, sum8(high), accumulate);
        }
}

AVX512 INLINE void group512_tokens(int format, int rn, const uint8_t *group, int k0, int k1, const float *x, size_t ldx, float *y,
                                   size_t ldy, int accumulate, size_t ahead) {
    switch (rn) {
    case 4: group512(format, 4, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 3: group512(format, 3, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 2: group512(format, 2, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    default: group512(format, 1, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    }
}

AVX512 INLINE void groups512(int format, const uint8_t *groups, int count, int columns, int k0, int k1, const float *x, size_t ldx,
                             int tokens, float *y, size_t ldy, int accumulate) {
    size_t bytes = 8 * (size_t)columns * element_size(format);
    for (int g = 0; g < count / 8; g++) {
        const uint8_t *group = groups + g * bytes;
        FOR_TOKEN_TILES(tokens, 4, tile, n0, rn, {
            const float *xn = x + n0 * ldx;
            float *yn = y + n0 * ldy + 8 * g;
            if (tile == 1 && g + 1 < count / 8) group512_tokens(format, rn, group, k0, k1, xn, ldx, yn, ldy, accumulate, bytes);
            else group512_tokens(format, rn, group, k0, k1, xn, ldx, yn, ldy, accumulate, 0);
        })
    }
}

/* ---- AVX512-BF16: BF16 rows against x rounded to BF16 (`pairs`), 32 products an instruction. */

AVX512BF16 INLINE __m512bh load_bf16(const uint16_t *p, __mmask32 mask) { return (__m512bh)_mm512_maskz_loadu_epi16(mask, p); }

AVX512BF16 INLINE void tile_bf16(int rm, int rn, const uint8_t *w, size_t stride, int k0, int k1, const uint16_t *x, size_t ldx,
                                 float *y, size_t ldy, int accumulate, size_t ahead) {
    __m512 acc[4][5];
    __m512bh xv[5];
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) acc[m][n] = _mm512_setzero_ps();
    for (int j = k0; j < k1; j += 32) {
        __mmask32 mask = k1 - j >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << (k1 - j)) - 1);
        for (int n = 0; n < rn; n++) xv[n] = load_bf16(x + n * ldx + j, mask);
        for (int m = 0; ahead && m < 4; m++) _mm_prefetch((const char *)w + ahead + m * stride + 2 * (size_t)j, _MM_HINT_T1);
        for (int m = 0; m < rm; m++) {
            __m512bh wv = load_bf16((const uint16_t *)(w + m * stride) + j, mask);
            for (int n = 0; n < rn; n++) acc[m][n] = _mm512_dpbf16_ps(acc[m][n], wv, xv[n]);
        }
    }
    for (int m = 0; m < rm; m++)
        for (int n = 0; n < rn; n++) store(y + n * ldy + m, _mm512_reduce_add_ps(acc[m][n]), accumulate);
}

AVX512BF16 INLINE void tiles_bf16(int rn, const uint8_t *w, size_t stride, int k0, int k1, const uint16_t *x, size_t ldx, float *y,
                                  size_t ldy, int accumulate, size_t ahead) {
    switch (rn) {
    case 5: tile_bf16(4, 5, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 4: tile_bf16(4, 4, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 3: tile_bf16(4, 3, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 2: tile_bf16(4, 2, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    default: tile_bf16(4, 1, w, stride, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    }
}

AVX512BF16 static void rows_bf16(const uint8_t *rows, size_t stride, int count, int k0, int k1, const uint16_t *x, size_t ldx, int tokens,
                                 float *y, size_t ldy, int accumulate) {
    int r = 0;
    for (; r + 4 <= count; r += 4)
        FOR_TOKEN_TILES(tokens, 5, tile, n0, rn, {
            const uint8_t *w = rows + r * stride;
            const uint16_t *xn = x + n0 * ldx;
            float *yn = y + n0 * ldy + r;
            if (tile == 1 && r + 8 <= count) tiles_bf16(rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 4 * stride);
            else tiles_bf16(rn, w, stride, k0, k1, xn, ldx, yn, ldy, accumulate, 0);
        })
    for (; r < count; r++)
        for (int n = 0; n < tokens; n++)
            tile_bf16(1, 1, rows + r * stride, stride, k0, k1, x + n * ldx, ldx, y + n * ldy + r, ldy, accumulate, 0);
}

/* An interleaved group × rn tokens: a 64-byte load holds four rows' pieces (a row's 4 pairs in its own
   128-bit lane), against a token's 4 pairs of those columns in every lane; rows 0-3 and 4-7 sum apart. */
AVX512BF16 INLINE void group_bf16(int rn, const uint16_t *group, int k0, int k1, const uint16_t *x, size_t ldx, float *y, size_t ldy,
                                  int accumulate, size_t ahead) {
    __m512 low[8], high[8];
    for (int n = 0; n < rn; n++) low[n] = high[n] = _mm512_setzero_ps();
    const uint16_t *piece = group + (size_t)k0 * 8;
    int j = k0;
    for (; j + 16 <= k1; j += 16, piece += 128) {
        for (int line = 0; ahead && line < 4; line++) _mm_prefetch((const char *)piece + ahead + 64 * line, _MM_HINT_T1);
        __m512bh a = load_bf16(piece, ~0u), b = load_bf16(piece + 32, ~0u), c = load_bf16(piece + 64, ~0u), d = load_bf16(piece + 96, ~0u);
        for (int n = 0; n < rn; n++) {
            __m512bh x0 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + n * ldx + j)));
            __m512bh x1 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + n * ldx + j + 8)));
            low[n] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(low[n], a, x0), c, x1);
            high[n] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(high[n], b, x0), d, x1);
        }
    }
    if (j < k1) {
        __m512bh a = load_bf16(piece, ~0u), b = load_bf16(piece + 32, ~0u);
        for (int n = 0; n < rn; n++) {
            __m512bh x0 = (__m512bh)_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x + n * ldx + j)));
            low[n] = _mm512_dpbf16_ps(low[n], a, x0);
            high[n] = _mm512_dpbf16_ps(high[n], b, x0);
        }
    }
    for (int n = 0; n < rn; n++) {
        float l[16], h[16];
        _mm512_storeu_ps(l, low[n]);
        _mm512_storeu_ps(h, high[n]);
        for (int r = 0; r < 4; r++) {
            store(y + n * ldy + r, l[4 * r] + l[4 * r + 1] + l[4 * r + 2] + l[4 * r + 3], accumulate);
            store(y + n * ldy + 4 + r, h[4 * r] + h[4 * r + 1] + h[4 * r + 2] + h[4 * r + 3], accumulate);
        }
    }
}

AVX512BF16 INLINE void group_bf16_tokens(int rn, const uint16_t *group, int k0, int k1, const uint16_t *x, size_t ldx, float *y,
                                         size_t ldy, int accumulate, size_t ahead) {
    switch (rn) {
    case 8: group_bf16(8, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 7: group_bf16(7, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 6: group_bf16(6, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 5: group_bf16(5, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 4: group_bf16(4, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 3: group_bf16(3, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    case 2: group_bf16(2, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    default: group_bf16(1, group, k0, k1, x, ldx, y, ldy, accumulate, ahead); break;
    }
}

AVX512BF16 static void groups_bf16(const uint8_t *groups, int count, int columns, int k0, int k1, const uint16_t *x, size_t ldx,
                                   int tokens, float *y, size_t ldy, int accumulate) {
    size_t bytes = 16 * (size_t)columns;
    for (int g = 0; g < count / 8; g++) {
        const uint16_t *group = (const uint16_t *)(groups + g * bytes);
        FOR_TOKEN_TILES(tokens, 8, tile, n0, rn, {
            const uint16_t *xn = x + n0 * ldx;
            float *yn = y + n0 * ldy + 8 * g;
            if (tile == 1 && g + 1 < count / 8) group_bf16_tokens(rn, group, k0, k1, xn, ldx, yn, ldy, accumulate, bytes);
            else group_bf16_tokens(rn, group, k0, k1, xn, ldx, yn, ldy, accumulate, 0);
        })
    }
}

/* Each format a body of its own (the format a constant in the inlined tiles). */
AVX512 static void rows512_f32(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows512(0, w, s, c, k0, k1, x, l, t, y, ly, a); }
AVX512 static void rows512_f16(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows512(1, w, s, c, k0, k1, x, l, t, y, ly, a); }
AVX512 static void rows512_bf16(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows512(2, w, s, c, k0, k1, x, l, t, y, ly, a); }
AVX512 static void groups512_f32(const uint8_t *w, int c, int n, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { groups512(0, w, c, n, k0, k1, x, l, t, y, ly, a); }
AVX512 static void groups512_f16(const uint8_t *w, int c, int n, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { groups512(1, w, c, n, k0, k1, x, l, t, y, ly, a); }
AVX512 static void groups512_bf16(const uint8_t *w, int c, int n, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { groups512(2, w, c, n, k0, k1, x, l, t, y, ly, a); }
AVX2 static void rows256_f32(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows256(0, w, s, c, k0, k1, x, l, t, y, ly, a); }
AVX2 static void rows256_f16(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows256(1, w, s, c, k0, k1, x, l, t, y, ly, a); }
AVX2 static void rows256_bf16(const uint8_t *w, size_t s, int c, int k0, int k1, const float *x, size_t l, int t, float *y, size_t ly, int a) { rows256(2, w, s, c, k0, k1, x, l, t, y, ly, a); }

void coppice_float_multiply(int format, const void *rows, size_t stride, int interleaved, int count, int columns, const float *x,
                            const uint16_t *pairs, int tokens, float *y, size_t ldy) {
    const uint8_t *w = rows;
    int block = column_block(tokens, columns);
    if (pairs && coppice_bf16_rows_available()) {
        size_t ldx = 2 * (size_t)((columns + 1) / 2);
        for (int k0 = 0; k0 < columns; k0 += block) {
            int k1 = k0 + block < columns ? k0 + block : columns;
            if (interleaved) groups_bf16(w, count, columns, k0, k1, pairs, ldx, tokens, y, ldy, k0 > 0);
            else rows_bf16(w, stride, count, k0, k1, pairs, ldx, tokens, y, ldy, k0 > 0);
        }
        return;
    }
    int wide = coppice_rows_level() >= COPPICE_ISA_AVX512;
    if (!coppice_quantized_dot_available() || (interleaved && !wide)) return per_token(format, w, stride, interleaved, count, columns, x, tokens, y, ldy);
    for (int k0 = 0; k0 < columns; k0 += block) {
        int k1 = k0 + block < columns ? k0 + block : columns, more = k0 > 0;
        if (interleaved) (format == 0 ? groups512_f32 : format == 1 ? groups512_f16 : groups512_bf16)(w, count, columns, k0, k1, x, columns, tokens, y, ldy, more);
        else if (wide) (format == 0 ? rows512_f32 : format == 1 ? rows512_f16 : rows512_bf16)(w, stride, count, k0, k1, x, columns, tokens, y, ldy, more);
        else (format == 0 ? rows256_f32 : format == 1 ? rows256_f16 : rows256_bf16)(w, stride, count, k0, k1, x, columns, tokens, y, ldy, more);
    }
}

#else

void coppice_float_multiply(int format, const void *rows, size_t stride, int interleaved, int count, int columns, const float *x,
                            const uint16_t *pairs, int tokens, float *y, size_t ldy) {
    (void)pairs;
    per_token(format, rows, stride, interleaved, count, columns, x, tokens, y, ldy);
}

#endif
