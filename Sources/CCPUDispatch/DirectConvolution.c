// The inner kernel of Coppice's direct stride-1 convolution (CoppiceKernels/Conv2DDirect.swift): on
// zero-padded flat planes every tap is the plane shifted by a constant, so 4 output channels × 64
// consecutive flat outputs are multiply-adds of shifted loads by broadcast weights, summed over
// channels and taps. AVX-512 keeps all 16 accumulators of a tile in registers; AVX2 takes the tile
// in four passes of 16 outputs (8 accumulators).
#include "CCPUDispatch.h"
#include "Level.h"

#define TILE 64
#define BLOCK 4

static void tilesGeneric(const float *padded, const float *packed, const long *offsets, int taps, int channels, long pitch,
                         int tiles, long rowLength, float *out) {
    for (int tile = 0; tile < tiles; tile++) {
        float acc[BLOCK][TILE] = {{0}};
        for (int c = 0; c < channels; c++) {
            const float *src = padded + c * pitch + (long)tile * TILE;
            const float *wc = packed + (long)c * taps * BLOCK;
            for (int t = 0; t < taps; t++) {
                const float *s = src + offsets[t], *w = wc + t * BLOCK;
                for (int j = 0; j < BLOCK; j++)
                    for (int i = 0; i < TILE; i++) acc[j][i] += s[i] * w[j];
            }
        }
        for (int j = 0; j < BLOCK; j++)
            for (int i = 0; i < TILE; i++) out[j * rowLength + (long)tile * TILE + i] = acc[j][i];
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void tilesAVX2(const float *padded, const float *packed, const long *offsets, int taps,
                                                          int channels, long pitch, int tiles, long rowLength, float *out) {
    for (int tile = 0; tile < tiles; tile++) {
        for (int part = 0; part < TILE; part += 16) {
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int c = 0; c < channels; c++) {
                const float *src = padded + c * pitch + (long)tile * TILE + part;
                const float *wc = packed + (long)c * taps * BLOCK;
                for (int t = 0; t < taps; t++) {
                    const float *s = src + offsets[t], *w = wc + t * BLOCK;
                    __m256 v0 = _mm256_loadu_ps(s), v1 = _mm256_loadu_ps(s + 8);
                    __m256 w0 = _mm256_broadcast_ss(w), w1 = _mm256_broadcast_ss(w + 1);
                    a00 = _mm256_fmadd_ps(v0, w0, a00); a01 = _mm256_fmadd_ps(v1, w0, a01);
                    a10 = _mm256_fmadd_ps(v0, w1, a10); a11 = _mm256_fmadd_ps(v1, w1, a11);
                    __m256 w2 = _mm256_broadcast_ss(w + 2), w3 = _mm256_broadcast_ss(w + 3);
                    a20 = _mm256_fmadd_ps(v0, w2, a20); a21 = _mm256_fmadd_ps(v1, w2, a21);
                    a30 = _mm256_fmadd_ps(v0, w3, a30); a31 = _mm256_fmadd_ps(v1, w3, a31);
                }
            }
            float *o = out + (long)tile * TILE + part;
            _mm256_storeu_ps(o, a00); _mm256_storeu_ps(o + 8, a01);
            _mm256_storeu_ps(o + rowLength, a10); _mm256_storeu_ps(o + rowLength + 8, a11);
            _mm256_storeu_ps(o + 2 * rowLength, a20); _mm256_storeu_ps(o + 2 * rowLength + 8, a21);
            _mm256_storeu_ps(o + 3 * rowLength, a30); _mm256_storeu_ps(o + 3 * rowLength + 8, a31);
        }
    }
}

__attribute__((target("avx512f"))) static void tilesAVX512(const float *padded, const float *packed, const long *offsets, int taps,
                                                           int channels, long pitch, int tiles, long rowLength, float *out) {
    for (int tile = 0; tile < tiles; tile++) {
        __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int c = 0; c < channels; c++) {
            const float *src = padded + c * pitch + (long)tile * TILE;
            const float *wc = packed + (long)c * taps * BLOCK;
            for (int t = 0; t < taps; t++) {
                const float *s = src + offsets[t], *w = wc + t * BLOCK;
                __m512 v0 = _mm512_loadu_ps(s), v1 = _mm512_loadu_ps(s + 16), v2 = _mm512_loadu_ps(s + 32), v3 = _mm512_loadu_ps(s + 48);
                __m512 w0 = _mm512_set1_ps(w[0]), w1 = _mm512_set1_ps(w[1]), w2 = _mm512_set1_ps(w[2]), w3 = _mm512_set1_ps(w[3]);
                a00 = _mm512_fmadd_ps(v0, w0, a00); a01 = _mm512_fmadd_ps(v1, w0, a01);
                a02 = _mm512_fmadd_ps(v2, w0, a02); a03 = _mm512_fmadd_ps(v3, w0, a03);
                a10 = _mm512_fmadd_ps(v0, w1, a10); a11 = _mm512_fmadd_ps(v1, w1, a11);
                a12 = _mm512_fmadd_ps(v2, w1, a12); a13 = _mm512_fmadd_ps(v3, w1, a13);
                a20 = _mm512_fmadd_ps(v0, w2, a20); a21 = _mm512_fmadd_ps(v1, w2, a21);
                a22 = _mm512_fmadd_ps(v2, w2, a22); a23 = _mm512_fmadd_ps(v3, w2, a23);
                a30 = _mm512_fmadd_ps(v0, w3, a30); a31 = _mm512_fmadd_ps(v1, w3, a31);
                a32 = _mm512_fmadd_ps(v2, w3, a32); a33 = _mm512_fmadd_ps(v3, w3, a33);
            }
        }
        float *o = out + (long)tile * TILE;
        _mm512_storeu_ps(o, a00); _mm512_storeu_ps(o + 16, a01); _mm512_storeu_ps(o + 32, a02); _mm512_storeu_ps(o + 48, a03);
        o += rowLength;
        _mm512_storeu_ps(o, a10); _mm512_storeu_ps(o + 16, a11); _mm512_storeu_ps(o + 32, a12); _mm512_storeu_ps(o + 48, a13);
        o += rowLength;
        _mm512_storeu_ps(o, a20); _mm512_storeu_ps(o + 16, a21); _mm512_storeu_ps(o + 32, a22); _mm512_storeu_ps(o + 48, a23);
        o += rowLength;
        _mm512_storeu_ps(o, a30); _mm512_storeu_ps(o + 16, a31); _mm512_storeu_ps(o + 32, a32); _mm512_storeu_ps(o + 48, a33);
    }
}
#endif

void coppice_direct_conv_tiles(int level, const float *padded, const float *packed, const long *offsets, int taps, int channels,
                               long pitch, int tiles, long rowLength, float *out) {
    level = coppice_level_supported(level);
#if defined(__x86_64__)
    if (level >= COPPICE_ISA_AVX512) { tilesAVX512(padded, packed, offsets, taps, channels, pitch, tiles, rowLength, out); return; }
    if (level >= COPPICE_ISA_AVX2) { tilesAVX2(padded, packed, offsets, taps, channels, pitch, tiles, rowLength, out); return; }
#endif
    tilesGeneric(padded, packed, offsets, taps, channels, pitch, tiles, rowLength, out);
}
