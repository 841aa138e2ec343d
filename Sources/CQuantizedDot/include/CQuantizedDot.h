#ifndef C_QUANTIZED_DOT_H
#define C_QUANTIZED_DOT_H

#include <stddef.h>
#include <stdint.h>

/// Integer dot products of ggml's Q4_0 / Q8_0 weight rows (blocks of 32 weights with an F16 scale)
/// with one activation vector quantized to int8 blocks of 32 (`scales[b]`, `values[32 b ..< 32 b + 32]`,
/// `sums[b]` = Σ of the block's int8 values), as llama.cpp decodes: 32 multiply-adds in one or two
/// AVX2 / AVX-512-VNNI instructions instead of widening every weight to F32. Swift cannot reach these
/// instructions, hence this small C target.

/// Whether the vector kernels run on this CPU (x86-64 with AVX2, FMA and F16C; VNNI used when
/// present). Callers keep their own F32 path where they do not: elsewhere `coppice_dot_rows` is
/// plain C, correct but slow.
int coppice_quantized_dot_available(void);

/// For tests: run the AVX2 kernels even where VNNI is present (not thread-safe; set it before use).
void coppice_quantized_dot_prefer_avx2(int prefer);

/// y[r] = row r · x for `count` rows `stride` bytes apart starting at `rows`, each `blocks` blocks
/// of Q4_0 (18 bytes a block, `q4` ≠ 0) or Q8_0 (34 bytes).
void coppice_dot_rows(int q4, int blocks, const uint8_t *rows, size_t stride, int count, const float *scales,
                      const int8_t *values, const int32_t *sums, float *y);

#endif
