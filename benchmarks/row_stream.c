/* How fast F16 weight rows stream through decode-style row kernels on two threads, by row width, next
   to a plain read of the same 2.4 GB: one row at a time with x in F32 (Coppice's kernel for narrow
   matrices) or in F16 (llama.cpp's choice for F16 weights), four rows side by side (four streams, x
   loaded once for them), and eight rows interleaved by eight columns (one stream, x loaded once for
   eight rows: Coppice's layout for wide matrices). A probe for docs/llama.md, not part of Coppice.

       cc -O2 benchmarks/row_stream.c -o /tmp/row_stream -lpthread && /tmp/row_stream 8192

   Prints GB/s of weights per kernel, four rounds (the bytes are the same whatever the layout). */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define LOAD_HALF(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))

enum kernel { one_row, one_row_half_x, four_rows, interleaved, plain, kernels };
static const char *names[kernels] = {"one row, x in F32", "one row, x in F16", "four rows side by side", "eight rows interleaved",
                                     "plain read"};

static uint16_t *weights;
static size_t rows;
static int columns;
static enum kernel kernel;
static float x[8192], *y;
static uint16_t x_half[8192];

TARGET static float sum(__m256 a) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

/* The row kernel of Sources/CQuantizedDot/FloatRows.c, x in F32 or (half ≠ 0) in F16. */
TARGET static float row_dot(const uint16_t *w, int half) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < columns; j += 32) {
        __m256 x0 = half ? LOAD_HALF(x_half + j) : _mm256_loadu_ps(x + j);
        __m256 x1 = half ? LOAD_HALF(x_half + j + 8) : _mm256_loadu_ps(x + j + 8);
        __m256 x2 = half ? LOAD_HALF(x_half + j + 16) : _mm256_loadu_ps(x + j + 16);
        __m256 x3 = half ? LOAD_HALF(x_half + j + 24) : _mm256_loadu_ps(x + j + 24);
        a0 = _mm256_fmadd_ps(LOAD_HALF(w + j), x0, a0);
        a1 = _mm256_fmadd_ps(LOAD_HALF(w + j + 8), x1, a1);
        a2 = _mm256_fmadd_ps(LOAD_HALF(w + j + 16), x2, a2);
        a3 = _mm256_fmadd_ps(LOAD_HALF(w + j + 24), x3, a3);
    }
    return sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* Rows r … r + 3 of the row-major matrix, two chains each. */
TARGET static void four_row_dot(const uint16_t *w, float *out) {
    __m256 a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
    for (int j = 0; j < columns; j += 16) {
        __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
        for (int r = 0; r < 4; r++) {
            a[2 * r] = _mm256_fmadd_ps(LOAD_HALF(w + r * columns + j), x0, a[2 * r]);
            a[2 * r + 1] = _mm256_fmadd_ps(LOAD_HALF(w + r * columns + j + 8), x1, a[2 * r + 1]);
        }
    }
    for (int r = 0; r < 4; r++) out[r] = sum(_mm256_add_ps(a[2 * r], a[2 * r + 1]));
}

/* One group of eight rows stored as eight rows' first 8 values, their next 8, … (coppice_float_dot_groups). */
TARGET static void group_dot(const uint16_t *group, float *out) {
    __m256 a[8];
    for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
    for (int j = 0; j < columns; j += 8, group += 64) {
        __m256 xj = _mm256_loadu_ps(x + j);
        for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(LOAD_HALF(group + 8 * r), xj, a[r]);
    }
    for (int r = 0; r < 8; r++) out[r] = sum(a[r]);
}

TARGET static float plain_read(const float *a, size_t count) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t k = 0; k < count; k += 32) {
        a0 = _mm256_add_ps(_mm256_loadu_ps(a + k), a0);
        a1 = _mm256_add_ps(_mm256_loadu_ps(a + k + 8), a1);
        a2 = _mm256_add_ps(_mm256_loadu_ps(a + k + 16), a2);
        a3 = _mm256_add_ps(_mm256_loadu_ps(a + k + 24), a3);
    }
    return sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

static void *half_of_the_rows(void *argument) {
    size_t per = rows / 2, first = (size_t)argument * per;
    switch (kernel) {
    case plain: y[first] = plain_read((const float *)(weights + first * columns), per * columns / 2); break;
    case four_rows:
        for (size_t r = first; r < first + per; r += 4) four_row_dot(weights + r * columns, y + r);
        break;
    case interleaved:
        for (size_t r = first; r < first + per; r += 8) group_dot(weights + r * columns, y + r);
        break;
    default:
        for (size_t r = first; r < first + per; r++) y[r] = row_dot(weights + r * columns, kernel == one_row_half_x);
    }
    return NULL;
}

static double gigabytes_per_second(enum kernel k) {
    struct timespec start, end;
    pthread_t threads[2];
    kernel = k;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long t = 0; t < 2; t++) pthread_create(&threads[t], NULL, half_of_the_rows, (void *)t);
    for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    return rows * columns * 2.0 / ((end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9) / 1e9;
}

int main(int argc, char **argv) {
    columns = argc > 1 ? atoi(argv[1]) : 2048;
    if (columns < 32 || columns > 8192 || columns % 32 != 0) {
        fprintf(stderr, "row width must be a multiple of 32 in [32, 8192], got %d\n", columns);
        return 1;
    }
    rows = (600000L * 2048) / columns / 16 * 16;
    weights = malloc(rows * columns * 2);
    y = malloc(rows * sizeof(float));
    if (!weights || !y) return 1;
    memset(weights, 0x11, rows * columns * 2);
    for (int i = 0; i < 8192; i++) x[i] = 1, x_half[i] = 0x3c00;
    for (int round = 0; round < 4; round++) {
        printf("width %d:", columns);
        for (enum kernel k = 0; k < kernels; k++) printf(" %s %.1f%s", names[k], gigabytes_per_second(k), k + 1 < kernels ? "," : " GB/s\n");
    }
    return 0;
}
