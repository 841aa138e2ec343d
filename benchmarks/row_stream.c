/* How fast F16 weight rows stream through a decode-style row kernel on two threads, by row width:
   x kept in F32 (as Coppice's decode does) or in F16 (as llama.cpp's does for F16 weights), next to
   a plain read of the same 2.4 GB. A probe for docs/llama.md's decode gap, not part of Coppice.

       cc -O2 benchmarks/row_stream.c -o /tmp/row_stream -lpthread && /tmp/row_stream 8192

   Prints GB/s of weights per kernel, four rounds. */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define LOAD_HALF(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))

static uint16_t *weights;
static size_t rows;
static int columns, mode;
static float x[8192], *y;
static uint16_t x_half[8192];

TARGET static float sum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
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
    return sum4(a0, a1, a2, a3);
}

TARGET static float plain_read(const float *a, size_t count) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t k = 0; k < count; k += 32) {
        a0 = _mm256_add_ps(_mm256_loadu_ps(a + k), a0);
        a1 = _mm256_add_ps(_mm256_loadu_ps(a + k + 8), a1);
        a2 = _mm256_add_ps(_mm256_loadu_ps(a + k + 16), a2);
        a3 = _mm256_add_ps(_mm256_loadu_ps(a + k + 24), a3);
    }
    return sum4(a0, a1, a2, a3);
}

static void *half_of_the_rows(void *argument) {
    size_t per = rows / 2, first = (size_t)argument * per;
    if (mode == 2) {
        y[first] = plain_read((const float *)(weights + first * columns), per * columns / 2);
    } else {
        for (size_t r = first; r < first + per; r++) y[r] = row_dot(weights + r * columns, mode);
    }
    return NULL;
}

static double gigabytes_per_second(int m) {
    struct timespec start, end;
    pthread_t threads[2];
    mode = m;
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
    rows = (600000L * 2048) / columns;
    weights = malloc(rows * columns * 2);
    y = malloc(rows * sizeof(float));
    if (!weights || !y) return 1;
    memset(weights, 0x11, rows * columns * 2);
    for (int i = 0; i < 8192; i++) x[i] = 1, x_half[i] = 0x3c00;
    for (int round = 0; round < 4; round++) {
        double f32 = gigabytes_per_second(0), f16 = gigabytes_per_second(1), read = gigabytes_per_second(2);
        printf("width %d: x in F32 %.1f, x in F16 %.1f, plain read %.1f GB/s\n", columns, f32, f16, read);
    }
    return 0;
}
